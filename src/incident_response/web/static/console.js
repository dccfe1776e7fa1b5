/*
 * incident-response console: the few lines of script the server-rendered pages use.
 *
 * Hand-rolled instead of htmx (which is not on PyPI and would have to be vendored): the
 * console needs only three things, and every page works without them.
 *
 * 1. Times: each <time data-local> holds a UTC time; show it in the viewer's time zone and
 *    keep UTC in the tooltip.
 * 2. Live updates: the server sends Server-Sent Events naming what changed
 *    (/console/events). A page that hears about itself fetches its own URL again and swaps
 *    each [data-live] part whose HTML differs. A part is left alone while the person is typing
 *    in it; focus and open <details> survive the swap.
 * 3. Forms marked [data-enhance] are posted with fetch (X-Console-Fetch: 1); the server answers
 *    {ok, text}, shown in the live region the form names (data-reply: beside the form, so the
 *    answer appears, and is announced, where the person is looking; #flash otherwise), and the
 *    page refreshes its parts in place. Anything unexpected falls back to a normal form post.
 */
(function () {
  "use strict";

  var timeFormat = new Intl.DateTimeFormat(undefined, {
    year: "numeric", month: "short", day: "numeric",
    hour: "2-digit", minute: "2-digit", timeZoneName: "short"
  });
  var dateFormat = new Intl.DateTimeFormat(undefined, { year: "numeric", month: "short", day: "numeric" });

  function localTimes(root) {
    root.querySelectorAll("time[data-local]").forEach(function (el) {
      var at = new Date(el.getAttribute("datetime"));
      if (isNaN(at.getTime())) { return; }
      el.textContent = (el.dataset.local === "date" ? dateFormat : timeFormat).format(at);
    });
  }

  /* the newest message is the one people want: keep long conversations scrolled to it */
  function scrollMessages(root) {
    root.querySelectorAll(".messages").forEach(function (list) { list.scrollTop = list.scrollHeight; });
  }

  function showReply(form, text, ok) {
    var box = (form.dataset.reply && document.getElementById(form.dataset.reply)) ||
      document.getElementById("flash");
    if (!box) { return; }
    var wrap = document.createElement("div");
    wrap.className = "flash " + (ok ? "ok" : "problem");
    var pre = document.createElement("pre");
    pre.className = "reply";
    pre.textContent = text;
    wrap.appendChild(pre);
    box.replaceChildren(wrap);
  }

  function isDirty(part) {
    return Array.prototype.some.call(part.querySelectorAll("input, textarea"), function (field) {
      return field.type !== "hidden" && field.value !== field.defaultValue;
    });
  }

  function markClean(form) {
    form.querySelectorAll("input, textarea").forEach(function (field) {
      field.defaultValue = field.value;
    });
  }

  function focusKey(el) {
    if (!el || el === document.body) { return null; }
    if (el.dataset && el.dataset.focusKey) { return "[data-focus-key=\"" + el.dataset.focusKey + "\"]"; }
    return el.id ? "#" + CSS.escape(el.id) : null;
  }

  function announceNewRows(before, after) {
    var announcer = document.querySelector("[data-live-announcer]");
    if (!announcer) { return; }
    var known = {};
    before.querySelectorAll("[data-incident-id]").forEach(function (row) { known[row.dataset.incidentId] = true; });
    var fresh = [];
    after.querySelectorAll("[data-incident-id]").forEach(function (row) {
      if (!known[row.dataset.incidentId]) { fresh.push(row.querySelector("a").textContent.trim()); }
    });
    if (fresh.length) { announcer.textContent = "New incident: " + fresh.join(", "); }
  }

  /* a redrawn part keeps the answers shown in it: the server's copy has none */
  function keepReplies(current, incoming) {
    incoming.querySelectorAll("[data-reply-place]").forEach(function (place) {
      var shown = current.querySelector("#" + CSS.escape(place.id));
      if (shown) { place.innerHTML = shown.innerHTML; }
    });
  }

  var refreshing = null;
  var again = false;

  function refresh() {
    if (refreshing) { again = true; return refreshing; }
    refreshing = fetch(location.pathname + location.search, {
      headers: { "X-Console-Refresh": "1" }, credentials: "same-origin"
    }).then(function (response) {
      if (!response.ok || response.url.indexOf("/console/sign-in") !== -1) { return; }
      return response.text().then(function (html) {
        var next = new DOMParser().parseFromString(html, "text/html");
        next.querySelectorAll("[data-live]").forEach(function (incoming) {
          var current = document.getElementById(incoming.id);
          if (!current) { return; }
          keepReplies(current, incoming);
          if (current.innerHTML === incoming.innerHTML || isDirty(current)) { return; }
          var key = current.contains(document.activeElement) ? focusKey(document.activeElement) : null;
          var open = Array.prototype.map.call(current.querySelectorAll("details[open]"), function (d) {
            return d.dataset.key;
          });
          var fresh = document.importNode(incoming, true);
          if (current.dataset.live === "incidents") { announceNewRows(current, fresh); }
          current.replaceWith(fresh);
          open.forEach(function (k) {
            var d = k && fresh.querySelector("details[data-key=\"" + k + "\"]");
            if (d) { d.open = true; }
          });
          localTimes(fresh);
          scrollMessages(fresh);
          var target = key && fresh.querySelector(key);
          if (target) { target.focus(); }
        });
      });
    }).catch(function () { /* the next event retries */ }).then(function () {
      refreshing = null;
      if (again) { again = false; refresh(); }
    });
    return refreshing;
  }

  function relevant(change) {
    var body = document.body.dataset;
    if (body.livePage === "list") { return true; }
    if (body.livePage === "incident") { return change.incident_id === body.liveIncident; }
    if (body.livePage === "channel") { return change.channel_id === body.liveChannel; }
    return false;
  }

  function listen() {
    var body = document.body.dataset;
    if (!body.liveSource || !body.livePage || !window.EventSource) { return; }
    var source = new EventSource(body.liveSource);
    var timer = null;
    var connected = false;
    var state = document.querySelector("[data-live-state]");
    var hideState = null;
    source.addEventListener("ready", function () {
      clearTimeout(hideState);
      if (state) { state.hidden = false; }
      if (connected) { refresh(); }  /* a reconnect: catch up on anything missed */
      connected = true;
    });
    source.addEventListener("change", function (event) {
      var change = JSON.parse(event.data);
      if (!relevant(change)) { return; }
      clearTimeout(timer);
      timer = setTimeout(refresh, 150);
    });
    /* streams end every few seconds by design and reconnect at once; only a connection that
       stays down hides the "live" note */
    source.addEventListener("error", function () {
      clearTimeout(hideState);
      hideState = setTimeout(function () { if (state) { state.hidden = true; } }, 5000);
    });
  }

  document.addEventListener("submit", function (event) {
    var form = event.target;
    if (!form.matches("form[data-enhance]") || !window.fetch) { return; }
    event.preventDefault();
    if (form.dataset.busy) { return; }  /* one submission at a time; focus stays put */
    form.dataset.busy = "1";
    form.setAttribute("aria-busy", "true");
    fetch(form.getAttribute("action"), {  /* not form.action: a field named "action" shadows it */
      method: "POST", body: new FormData(form), credentials: "same-origin",
      headers: { "X-Console-Fetch": "1" }
    }).then(function (response) {
      var type = response.headers.get("content-type") || "";
      if (type.indexOf("application/json") === -1) { throw new Error("not an answer"); }
      return response.json();
    }).then(function (answer) {
      showReply(form, answer.text, answer.ok);
      if (answer.ok && form.hasAttribute("data-reset-on-ok")) { form.reset(); }
      markClean(form);
      return refresh();
    }).catch(function () {
      form.removeAttribute("data-enhance");
      form.submit();
    }).then(function () {
      delete form.dataset.busy;
      form.removeAttribute("aria-busy");
    });
  });

  document.addEventListener("DOMContentLoaded", function () {
    localTimes(document);
    scrollMessages(document);
    listen();
  });
}());
