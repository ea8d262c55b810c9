/* infra-monitor live pages: every page refreshes its changing parts in place, without a reload.
 *
 * A page marks them with data-live-region and an id (the header's freshness pill and "updated hh:mm:ss",
 * the stale banner, the page's tables and counters). Every <body data-live-s> seconds the script asks for
 * the same URL with the header "X-Live-Regions: 1"; the server answers with those elements only (see
 * web/templating.py live_regions) and each one replaces the content of the element with the same id.
 * What the operator is doing survives a refresh: a region holding the focused form field or a form with
 * typed changes is skipped this round; focus on a link or button, open <details>, the page's and the
 * tables' scroll positions are restored; elements marked data-live-keep (the uPlot graphs, which refresh
 * themselves) are moved over untouched. Paused while the tab is hidden, refreshed on return; a failed
 * fetch shows #connection-lost and backs off, the next success hides it. Plain JS, no eval (strict CSP).
 * After each round a "live:updated" event is sent on document (detail.regions: ids swapped).
 */
(function () {
  "use strict";
  var body = document.body;
  if (!body || !document.querySelector("[data-live-region][id]")) { return; }
  var every = Math.max(1, parseFloat(body.getAttribute("data-live-s") || "15")) * 1000;
  var MAX_BACKOFF_MS = 120000;
  var lost = document.getElementById("connection-lost");
  var failures = 0, timer = null, busy = false, rounds = 0;

  function isField(el) {
    return !!el && (/^(INPUT|SELECT|TEXTAREA)$/.test(el.tagName) || el.isContentEditable);
  }
  function formDirty(form) {
    return Array.prototype.some.call(form.elements, function (el) {
      if (el.type === "checkbox" || el.type === "radio") { return el.checked !== el.defaultChecked; }
      if (el.tagName === "SELECT") {
        return Array.prototype.some.call(el.options, function (o) { return o.selected !== o.defaultSelected; });
      }
      if (el.type === "hidden" || el.type === "submit" || el.type === "button") { return false; }
      return "defaultValue" in el && el.value !== el.defaultValue;
    });
  }
  function busyRegion(region) {  // the operator is typing or has typed something here
    var active = document.activeElement;
    if (active && active !== body && region.contains(active) && isField(active)) { return true; }
    return Array.prototype.some.call(region.querySelectorAll("form"), formDirty);
  }

  function keyOf(el, region) {  // how to find "the same" element in the new content
    if (el.id) { return "#" + el.id; }
    var sel = el.tagName.toLowerCase();
    var href = el.getAttribute("href"), name = el.getAttribute("name");
    if (href) { sel += "[href=\"" + href.replace(/["\\]/g, "\\$&") + "\"]"; }
    else if (name) { sel += "[name=\"" + name.replace(/["\\]/g, "\\$&") + "\"]"; }
    var same = region.querySelectorAll(sel);
    return sel + "@" + Array.prototype.indexOf.call(same, el);
  }
  function find(key, region) {
    if (key.charAt(0) === "#") { return region.querySelector("[id=\"" + key.slice(1) + "\"]"); }
    var at = key.lastIndexOf("@");
    return region.querySelectorAll(key.slice(0, at))[parseInt(key.slice(at + 1), 10)] || null;
  }
  function detailsKey(d, i) {
    var s = d.querySelector("summary");
    return d.id ? "#" + d.id : (s ? "s:" + s.textContent.trim() : "i:" + i);
  }

  function swap(old, fresh) {
    var focusKey = null, active = document.activeElement;
    if (active && active !== body && old.contains(active)) { focusKey = keyOf(active, old); }
    var open = {};
    old.querySelectorAll("details").forEach(function (d, i) { open[detailsKey(d, i)] = d.open; });
    var scrolls = [];
    old.querySelectorAll(".table-wrap, [data-live-scroll]").forEach(function (el, i) {
      if (el.scrollLeft || el.scrollTop) { scrolls.push([i, el.scrollLeft, el.scrollTop]); }
    });
    fresh.querySelectorAll("[data-live-keep][id]").forEach(function (el) {
      var kept = old.querySelector("[id=\"" + el.id + "\"]");
      if (kept) { el.parentNode.replaceChild(kept, el); }
    });
    Array.prototype.slice.call(old.attributes).forEach(function (a) {
      if (!fresh.hasAttribute(a.name)) { old.removeAttribute(a.name); }
    });
    Array.prototype.slice.call(fresh.attributes).forEach(function (a) {
      if (old.getAttribute(a.name) !== a.value) { old.setAttribute(a.name, a.value); }
    });
    var nodes = [];
    while (fresh.firstChild) { nodes.push(fresh.removeChild(fresh.firstChild)); }
    old.replaceChildren.apply(old, nodes.map(function (n) { return document.adoptNode(n); }));
    old.querySelectorAll("details").forEach(function (d, i) {
      var k = detailsKey(d, i);
      if (Object.prototype.hasOwnProperty.call(open, k)) { d.open = open[k]; }
    });
    var boxes = old.querySelectorAll(".table-wrap, [data-live-scroll]");
    scrolls.forEach(function (s) { if (boxes[s[0]]) { boxes[s[0]].scrollLeft = s[1]; boxes[s[0]].scrollTop = s[2]; } });
    if (focusKey) {
      var again = find(focusKey, old);
      if (again && again.focus) { again.focus({ preventScroll: true }); }
    }
  }

  function apply(html) {
    var doc = new DOMParser().parseFromString(html, "text/html");
    var x = window.scrollX, y = window.scrollY, swapped = [];
    doc.querySelectorAll("[data-live-region][id]").forEach(function (fresh) {
      var old = document.getElementById(fresh.id);
      if (!old || !old.hasAttribute("data-live-region")) { return; }
      var text = fresh.innerHTML;
      if (old.liveHtml === text) { return; }   // nothing changed: leave the DOM (and any hover) alone
      if (busyRegion(old)) { return; }
      swap(old, fresh);
      old.liveHtml = text;
      swapped.push(old.id);
    });
    if (swapped.length && (window.scrollX !== x || window.scrollY !== y)) { window.scrollTo(x, y); }
    return swapped;
  }

  function schedule(ms) {
    window.clearTimeout(timer);
    timer = document.hidden ? null : window.setTimeout(tick, ms);
  }

  function tick() {
    if (busy || document.hidden) { return; }
    busy = true;
    fetch(window.location.pathname + window.location.search, {
      cache: "no-store", credentials: "same-origin", redirect: "follow",
      headers: { "Accept": "text/html", "X-Live-Regions": "1" }
    }).then(function (r) {
      if (r.redirected && new URL(r.url).pathname === "/login") {  // the session ended: show the sign-in page
        window.location.assign(r.url);
        throw new Error("signed out");
      }
      if (!r.ok) { throw new Error("HTTP " + r.status); }
      return r.text();
    }).then(function (html) {
      var swapped = apply(html);
      failures = 0;
      if (lost) { lost.hidden = true; }
      rounds += 1;
      body.setAttribute("data-live-rounds", String(rounds));
      document.dispatchEvent(new CustomEvent("live:updated", { detail: { regions: swapped } }));
    }).catch(function () {
      failures += 1;
      if (lost) { lost.hidden = false; }
    }).then(function () {
      busy = false;
      schedule(failures ? Math.min(MAX_BACKOFF_MS, every * Math.pow(2, failures)) : every);
    });
  }

  document.querySelectorAll("[data-live-region][id]").forEach(function (el) { el.liveHtml = el.innerHTML; });
  document.addEventListener("visibilitychange", function () {
    if (document.hidden) { window.clearTimeout(timer); timer = null; }
    else { schedule(0); }
  });
  schedule(every);
})();
