/* Cầu Nối — every page: small enhancements that the pages work without.
 * Loaded in <head> without `defer`, so `html.js` is set before the first paint. */
(function () {
  "use strict";
  document.documentElement.className += " js";

  function ready() {
    // Phones: the navigation opens and closes behind the "Menu" button.
    var toggle = document.querySelector(".menu-toggle");
    var nav = document.getElementById("mainnav");
    if (toggle && nav) {
      toggle.addEventListener("click", function () {
        var open = nav.classList.toggle("open");
        toggle.setAttribute("aria-expanded", open ? "true" : "false");
      });
    }
    // A table wider than the screen scrolls inside its frame: keyboard users must reach it too.
    Array.prototype.forEach.call(document.querySelectorAll(".table-wrap"), function (wrap) {
      if (wrap.scrollWidth > wrap.clientWidth + 1 && !wrap.hasAttribute("tabindex")) {
        wrap.setAttribute("tabindex", "0");
        wrap.setAttribute("role", "region");
        var caption = wrap.querySelector("caption, h2, h3") || wrap.previousElementSibling;
        if (caption && caption.textContent) { wrap.setAttribute("aria-label", caption.textContent.trim()); }
      }
    });
    idleTimeout();
  }
  if (document.readyState === "loading") { document.addEventListener("DOMContentLoaded", ready); }
  else { ready(); }

  /* The idle time-out that loses nothing. The server ends a session idle for 15 minutes (longer
   * on intake and note pages); the page counts down the same limit from what base.html says.
   * Two minutes before it: a warning with "Tiếp tục làm việc". After it: saving asks her to sign
   * in again in a dialog on this page, as the same user, then sends what she typed. What she
   * typed stays in the page only: nothing is written to browser storage. */
  function idleTimeout() {
    var body = document.body;
    if (!body.hasAttribute("data-idle") || !window.fetch) { return; }
    var warning = document.getElementById("idle-warning");
    var resume = document.getElementById("resume-dialog");
    if (!warning || !resume || !warning.showModal) { return; }
    var warnMs = Number(body.getAttribute("data-warn")) * 1000;
    var idleAt, absoluteAt;
    var longForm = body.hasAttribute("data-long-form");
    function setDeadlines(idle, absolute) {
      idleAt = Date.now() + idle * 1000;
      absoluteAt = Date.now() + absolute * 1000;
    }
    setDeadlines(Number(body.getAttribute("data-idle")), Number(body.getAttribute("data-absolute")));

    function csrfToken() {
      var input = document.querySelector("input[name=csrf_token]");
      return input ? input.value : "";
    }
    function newCsrf(token) {
      if (!token) { return; }
      Array.prototype.forEach.call(document.querySelectorAll("input[name=csrf_token]"), function (i) {
        i.value = token;
      });
    }
    function post(url, data) {
      var body = new URLSearchParams();
      for (var k in data) { body.append(k, data[k]); }
      return fetch(url, { method: "POST", credentials: "same-origin", body: body,
        headers: { "Accept": "application/json", "X-CSRFToken": csrfToken() } });
    }
    function answer(r) {
      return r.json().then(function (j) { j.status = r.status; return j; },
                           function () { return { status: r.status, alive: false }; });
    }
    function state() {
      return fetch(warning.getAttribute("data-state"), { credentials: "same-origin",
        headers: { "Accept": "application/json" } }).then(answer);
    }
    function alive(j) {
      newCsrf(j.csrf);
      if (j.alive) { setDeadlines(j.idle, j.absolute); }
      return j.alive;
    }

    // The warning, two minutes before the idle limit.
    var warnErr = warning.querySelector("[data-role=error]");
    warning.querySelector("[data-role=continue]").addEventListener("click", function () {
      post(warning.getAttribute("data-keep-alive"), {}).then(answer).then(function (j) {
        if (j.alive) { alive(j); warning.close(); }
        else { warning.close(); }  // already over: saving will ask her to sign in again
      }, function () { warnErr.hidden = false; });
    });
    setInterval(function () {
      var now = Date.now();
      if (!warning.open && now >= idleAt - warnMs && now < idleAt) {
        // Another tab may have kept the session going: ask before warning.
        state().then(function (j) {
          if (alive(j) && Date.now() >= idleAt - warnMs && !warning.open) { warning.showModal(); }
        }, function () {});
      } else if (warning.open && now >= idleAt) {
        warning.close();
      }
    }, 1000);

    // Saving: if the session may have ended, sign in again first, on this page.
    var pending = null;  // {form, submitter}
    var resumeForm = resume.querySelector("form");
    var resumeErr = resume.querySelector("[data-role=error]");
    var codeStep = resume.querySelector("[data-step=code]");
    var passwordStep = resume.querySelector("[data-step=password]");
    function send(p) {
      p.form.setAttribute("data-checked", "1");
      if (p.form.requestSubmit) { p.form.requestSubmit(p.submitter || undefined); } else { p.form.submit(); }
    }
    document.addEventListener("submit", function (ev) {
      var form = ev.target;
      if (ev.defaultPrevented || (form.method || "").toLowerCase() !== "post" || form.closest("dialog")) { return; }
      if (form.getAttribute("data-checked")) { form.removeAttribute("data-checked"); return; }
      if (form.id === "outreach-form" || /sign-out$/.test(form.getAttribute("action") || "")) { return; }
      var now = Date.now();
      var near = now >= idleAt - 10000 || now >= absoluteAt - 10000;
      if (!near && !longForm) { return; }  // a plain save: no extra round trip
      ev.preventDefault();
      var p = { form: form, submitter: ev.submitter };
      state().then(function (j) {
        if (alive(j)) { send(p); return; }
        pending = p;
        passwordStep.hidden = false;
        codeStep.hidden = true;
        resumeErr.hidden = true;
        resume.showModal();
        resume.querySelector("#resume-password").focus();
      }, function () { send(p); });  // no answer: the plain post says what happened
    }, false);
    resumeForm.addEventListener("submit", function (ev) {
      ev.preventDefault();
      var code = !codeStep.hidden;
      var url = resume.getAttribute(code ? "data-resume-code" : "data-resume");
      var data = code ? { code: resumeForm.elements.code.value }
                      : { username: resumeForm.elements.username.value, password: resumeForm.elements.password.value };
      post(url, data).then(answer).then(function (j) {
        resumeForm.elements.password.value = "";
        newCsrf(j.csrf);
        if (j.step === "code") {
          passwordStep.hidden = true;
          codeStep.hidden = false;
          resumeForm.elements.code.focus();
          return;
        }
        if (j.alive) {
          alive(j);
          resume.close();
          var p = pending;
          pending = null;
          if (p) { send(p); }
          return;
        }
        resumeErr.textContent = j.error || "";
        resumeErr.hidden = !j.error;
        if (j.status === 409) { passwordStep.hidden = false; codeStep.hidden = true; }
      }, function () { resumeErr.hidden = false; });
    });
  }
})();
