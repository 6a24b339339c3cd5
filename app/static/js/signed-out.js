/* Cầu Nối — after sign-out: forget the outreach form kept for offline use (it names the
 * volunteer) and its service worker. Entries still waiting to be sent stay in localStorage,
 * tagged with their author, and go out the next time she signs in and opens the form. */
"use strict";
(function () {
  if (window.caches) {
    caches.keys().then(function (names) {
      names.filter(function (n) { return n.indexOf("caunoi-outreach-") === 0; })
        .forEach(function (n) { caches.delete(n); });
    }).catch(function () {});
  }
  if (navigator.serviceWorker && navigator.serviceWorker.getRegistrations) {
    navigator.serviceWorker.getRegistrations().then(function (registrations) {
      registrations.forEach(function (r) { r.unregister(); });
    }).catch(function () {});
  }
})();
