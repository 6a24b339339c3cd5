/* Cầu Nối — outreach service worker (scope /outreach/): lets the outreach form open without a
 * network. Only the form page and its two static files are kept; entries themselves wait in
 * localStorage (see outreach.js) and are sent by the page, never by this worker. */
"use strict";
var CACHE = "caunoi-outreach-v2";
var FORM = "/outreach/new";
var ASSETS = ["/static/css/app.css", "/static/js/app.js", "/static/js/outreach.js"];
// The kept form names the signed-in volunteer: offer it no longer than a session can last.
var MAX_AGE_MS = 12 * 3600 * 1000;

function keepForm(response) {
  // A redirect means the session ended (sign-in page): forget the form rather than keep it.
  return caches.open(CACHE).then(function (cache) {
    if (response.ok && !response.redirected && response.type === "basic") {
      return response.blob().then(function (body) {
        return cache.put(FORM, new Response(body, { headers: {
          "Content-Type": "text/html; charset=utf-8", "X-Kept-At": String(Date.now()) } }));
      });
    }
    return cache.delete(FORM);
  });
}

self.addEventListener("install", function (event) {
  event.waitUntil(
    caches.open(CACHE).then(function (cache) { return cache.addAll(ASSETS); }).then(function () {
      return fetch(FORM, { credentials: "same-origin" }).then(keepForm, function () {});
    }).then(function () { return self.skipWaiting(); })
  );
});

self.addEventListener("activate", function (event) {
  event.waitUntil(
    caches.keys().then(function (names) {
      return Promise.all(names.filter(function (n) { return n.indexOf("caunoi-outreach-") === 0 && n !== CACHE; })
        .map(function (n) { return caches.delete(n); }));
    }).then(function () { return self.clients.claim(); })
  );
});

self.addEventListener("fetch", function (event) {
  var request = event.request;
  if (request.method !== "GET") { return; }
  var url = new URL(request.url);
  if (url.origin !== self.location.origin) { return; }
  if (request.mode === "navigate" && url.pathname === FORM) {
    // Network first: a fresh form (and CSRF token) whenever there is a network.
    event.respondWith(fetch(request).then(function (response) {
      var copy = response.clone();
      return keepForm(copy).then(function () { return response; });
    }, function () {
      return caches.match(FORM).then(function (cached) {
        var kept = cached ? Number(cached.headers.get("X-Kept-At")) : 0;
        return cached && Date.now() - kept < MAX_AGE_MS ? cached : Response.error();
      });
    }));
  } else if (ASSETS.indexOf(url.pathname) !== -1) {
    event.respondWith(fetch(request).then(function (response) {
      if (response.ok) {
        var copy = response.clone();
        caches.open(CACHE).then(function (cache) { cache.put(url.pathname, copy); });
      }
      return response;
    }, function () { return caches.match(url.pathname); }));
  }
});
