/* Cầu Nối — outreach form: keep entries on the phone while the network is down, send each once.
 * Progressive enhancement: without this script the form posts normally to the page.
 * Each entry gets its own idempotency key when it is typed (never the one the page was loaded
 * with: a form reopened from the service-worker cache carries the same page every time); the
 * server answers a repeated key with the entry it already has, so a retry after a lost answer
 * never makes a second entry. No entry leaves the queue except when the server has it, or when
 * she removes it herself; the count of waiting entries and the last error stay on screen. */
(function () {
  "use strict";
  var STORE = "caunoi.outreach.queue.v1";
  var each = function (list, fn) { Array.prototype.forEach.call(list, fn); };

  each(document.querySelectorAll("form[data-confirm]"), function (f) {
    f.addEventListener("submit", function (ev) {
      if (!window.confirm(f.getAttribute("data-confirm"))) { ev.preventDefault(); }
    });
  });

  var form = document.getElementById("outreach-form");
  if (!form || !form.getAttribute("data-api") || !window.fetch || !window.localStorage) { return; }
  var api = form.getAttribute("data-api");
  var user = form.getAttribute("data-user");
  var msg = function (name) { return form.getAttribute("data-msg-" + name) || ""; };
  var statusEl = document.getElementById("outreach-status");
  var pendingEl = document.getElementById("outreach-pending");
  var countEl = document.getElementById("outreach-count");
  var lastErrorEl = document.getElementById("outreach-last-error");
  var button = form.querySelector("button[type=submit]");
  var sending = false;
  var again = false;

  function load() {
    try { return JSON.parse(localStorage.getItem(STORE)) || []; } catch (e) { return []; }
  }
  function save(queue) {
    try { localStorage.setItem(STORE, JSON.stringify(queue)); return true; } catch (e) { return false; }
  }
  function mine() { return load().filter(function (e) { return e.user === user; }); }
  function drop(key) { save(load().filter(function (e) { return e.key !== key; })); }
  function update(key, fields) {
    save(load().map(function (e) {
      if (e.key === key) { for (var k in fields) { e[k] = fields[k]; } }
      return e;
    }));
  }

  function newKey() {
    if (window.crypto && crypto.randomUUID) { return crypto.randomUUID().replace(/-/g, ""); }
    var bytes = new Uint8Array(16);
    crypto.getRandomValues(bytes);
    return Array.prototype.map.call(bytes, function (b) { return ("0" + b.toString(16)).slice(-2); }).join("");
  }

  function isoDate(text) {
    var m = /^(\d{1,2})\/(\d{1,2})\/(\d{4})$/.exec(text.trim());
    if (!m) { return text.trim(); }
    return m[3] + "-" + ("0" + m[2]).slice(-2) + "-" + ("0" + m[1]).slice(-2);
  }

  function collect() {
    var data = { topics: [] };
    each(form.elements, function (el) {
      if (!el.name || el.name === "csrf_token" || el.disabled) { return; }
      if ((el.type === "radio" || el.type === "checkbox") && !el.checked) { return; }
      var v = el.value.trim();
      if (el.name === "topics") { data.topics.push(v); }
      else if (el.name.indexOf("reached_") === 0) { data[el.name] = v === "" ? null : (/^\d+$/.test(v) ? parseInt(v, 10) : v); }
      else if (el.name === "org_unit_id") { data.org_unit_id = /^\d+$/.test(v) ? parseInt(v, 10) : null; }
      else if (el.name === "held_on") { data.held_on = isoDate(v); }
      else { data[el.name] = v; }
    });
    return data;
  }

  function summary(data) {
    var checked = form.querySelector("input[name=form]:checked");
    var people = 0;
    for (var k in data) { if (k.indexOf("reached_") === 0 && typeof data[k] === "number") { people += data[k]; } }
    var d = (data.held_on || "").split("-").reverse().join("/");
    return d + " · " + (checked ? checked.parentNode.textContent.trim() : "") + " · " + people + " " + msg("people");
  }

  function say(text, kind, state) {
    statusEl.textContent = text;
    statusEl.className = "flash flash-" + (kind || "info");
    statusEl.setAttribute("data-kind", state || "");
    statusEl.hidden = !text;
  }

  function clearErrors() {
    each(form.querySelectorAll(".js-error"), function (p) { p.parentNode.removeChild(p); });
  }

  function showErrors(errors) {
    var loose = [];
    for (var name in errors) {
      var target = document.getElementById(name);
      if (target && target.tagName !== "FIELDSET" && target.parentNode) { target = target.parentNode; }
      if (!target || !form.contains(target)) { loose.push(errors[name]); continue; }
      var p = document.createElement("p");
      p.className = "error js-error";
      p.textContent = errors[name];
      target.appendChild(p);
    }
    say([msg("invalid")].concat(loose).join(" "), "error");
  }

  // The last failure (per user), so she can see why entries are still waiting.
  function note(text) {
    try {
      if (text) { localStorage.setItem(STORE + ".error." + user, JSON.stringify({ text: text, at: Date.now() })); }
      else { localStorage.removeItem(STORE + ".error." + user); }
    } catch (e) { /* nothing to keep it in: the banner still says it */ }
  }
  function lastError() {
    try { return JSON.parse(localStorage.getItem(STORE + ".error." + user)); } catch (e) { return null; }
  }
  function clock(ms) {
    var d = new Date(ms);
    return ("0" + d.getHours()).slice(-2) + ":" + ("0" + d.getMinutes()).slice(-2);
  }

  function render() {
    var queue = mine();
    countEl.textContent = msg("count").replace("{n}", String(queue.length));
    var err = queue.length ? lastError() : null;
    lastErrorEl.textContent = err ? msg("lasterror") + " " + err.text + " (" + clock(err.at) + ")" : "";
    lastErrorEl.hidden = !err;
    // The banner follows the queue: once nothing waits, a "kept on the phone" warning is stale.
    if (!queue.length && statusEl.getAttribute("data-kind") === "waiting") {
      say(msg("allsent"), "success");
    } else if (queue.length && navigator.onLine === false) {
      say(msg("queued"), "warning", "waiting");
    }
    var list = pendingEl.querySelector("ul");
    list.textContent = "";
    queue.forEach(function (item) {
      var li = document.createElement("li");
      li.textContent = item.label + (item.error ? " — " + item.error : "");
      if (item.error) {
        li.className = "error";
        var b = document.createElement("button");
        b.type = "button";
        b.className = "link";
        b.textContent = "×";
        b.setAttribute("aria-label", "remove");
        b.addEventListener("click", function () { drop(item.key); render(); });
        li.appendChild(document.createTextNode(" "));
        li.appendChild(b);
      }
      list.appendChild(li);
    });
    pendingEl.hidden = queue.length === 0;
  }

  function send(item) {
    var ctrl = window.AbortController ? new AbortController() : null;
    var timer = ctrl ? setTimeout(function () { ctrl.abort(); }, 20000) : null;
    var token = form.querySelector("input[name=csrf_token]");
    return fetch(api, {
      method: "POST",
      credentials: "same-origin",
      headers: { "Content-Type": "application/json", "Accept": "application/json",
                 "X-CSRFToken": token ? token.value : "" },
      body: JSON.stringify(item.data),
      signal: ctrl ? ctrl.signal : undefined
    }).then(function (r) {
      clearTimeout(timer);
      if (r.status === 200 || r.status === 201) { return { ok: true }; }
      if (r.status === 401 || r.status === 403) { return { auth: true }; }
      if (r.status === 400 || r.status === 404 || r.status === 409) {
        return r.json().then(function (j) {
          return j.error === "csrf" ? { auth: true, reload: true } : { invalid: j.errors || {}, message: j.error || "" };
        }, function () { return { retry: true }; });
      }
      return { retry: true };
    }, function () { clearTimeout(timer); return { retry: true }; });
  }

  // Send every waiting entry of this user, one after another; `first` is the one just typed.
  function flush(first) {
    if (sending) { return Promise.resolve(null); }
    sending = true;
    var firstResult = null;
    var queue = mine().filter(function (e) { return !e.error; });
    var step = function (i) {
      if (i >= queue.length) { return Promise.resolve(); }
      var item = queue[i];
      return send(item).then(function (res) {
        if (item.key === first) { firstResult = res; }
        if (res.ok) { drop(item.key); }
        else if (res.invalid && item.key === first) { drop(item.key); }
        else if (res.invalid) {
          var text = Object.keys(res.invalid).map(function (k) { return res.invalid[k]; }).join(" ");
          update(item.key, { error: text || msg("invalid") });
        }
        if (res.auth || res.retry) {  // no point trying the rest now
          note(res.auth ? msg("auth") : msg("offline"));
          return null;
        }
        note("");
        return step(i + 1);
      });
    };
    return step(0).then(function () {
      sending = false;
      render();
      if (again) { again = false; setTimeout(function () { flush(null); }, 0); }  // typed meanwhile
      return firstResult;
    }, function () { sending = false; render(); return firstResult; });
  }

  function startNew() {
    form.reset();
    form.elements.idempotency_key.value = newKey();
  }

  form.addEventListener("submit", function (ev) {
    ev.preventDefault();
    clearErrors();
    var data = collect();
    data.idempotency_key = newKey();  // this entry's own key, made now
    var item = { user: user, key: data.idempotency_key, data: data, label: summary(data), at: Date.now() };
    var queue = load();
    queue.push(item);
    if (!save(queue)) {  // no room on this phone: a plain post if it can reach the server
      if (navigator.onLine !== false) { form.elements.idempotency_key.value = item.key; form.submit(); }
      else { say(msg("nostore"), "error"); }
      return;
    }
    if (sending) {  // an earlier entry is on its way; this one goes right after it
      again = true;
      startNew();
      say(msg("queued"), "warning", "waiting");
      render();
      return;
    }
    button.disabled = true;
    flush(item.key).then(function (res) {
      button.disabled = false;
      if (res && res.invalid) { showErrors(res.invalid); return; }
      startNew();
      if (res && res.ok) { say(msg("sent"), "success"); }
      else if (res && res.reload) { say(msg("reload"), "warning", "waiting"); }
      else if (res && res.auth) { say(msg("auth"), "warning", "waiting"); }
      else { say(msg("queued"), "warning", "waiting"); }
      render();
      window.scrollTo(0, 0);
    });
  });

  document.getElementById("outreach-retry").addEventListener("click", function () { flush(null); });
  window.addEventListener("online", function () { flush(null); });
  window.addEventListener("offline", render);
  document.addEventListener("visibilitychange", function () {
    if (document.visibilityState === "visible") { flush(null); }
  });
  setInterval(function () { if (mine().length && navigator.onLine !== false) { flush(null); } }, 30000);
  if (navigator.serviceWorker && form.getAttribute("data-sw")) {
    // Lets this form open with no network next time; failure only loses that convenience.
    navigator.serviceWorker.register(form.getAttribute("data-sw"), { scope: "/outreach/" })
      .catch(function () {});
  }
  form.elements.idempotency_key.value = newKey();  // a cached page must not lend its key
  render();
  flush(null);
})();
