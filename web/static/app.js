/* infra-monitor: small page behaviour. Plain JS, no library (live refreshes are in /static/live.js). */
(function () {
  "use strict";

  /* filters: submit on change of a select (the button stays for keyboard users and no-JS) */
  document.querySelectorAll("form.filters select").forEach(function (sel) {
    sel.addEventListener("change", function () { sel.form.submit(); });
  });

  /* long sections (a site's circuits) start collapsed on a phone, open elsewhere; live refreshes keep
     whatever the operator chose */
  if (window.matchMedia && window.matchMedia("(max-width: 700px)").matches) {
    document.querySelectorAll("details[data-collapse-narrow]").forEach(function (d) { d.open = false; });
  }

  /* wall mode: one district at a time, every <body data-cycle-s> seconds; the district shown is remembered
     by its code, so a live refresh of #wall-districts (which renders them all) does not reset the cycle */
  var wall = document.body && document.body.classList.contains("wall") ? document.body : null;
  if (!wall) { return; }
  var cycleMs = Math.max(1, parseFloat(wall.getAttribute("data-cycle-s") || "15")) * 1000;
  var current = null;

  function panels() { return Array.prototype.slice.call(document.querySelectorAll(".wall-district[data-district]")); }
  function show(code) {
    var all = panels();
    if (!all.length) { return; }
    var found = all.some(function (p) { return p.getAttribute("data-district") === code; });
    current = found ? code : all[0].getAttribute("data-district");
    all.forEach(function (p) { p.hidden = p.getAttribute("data-district") !== current; });
    wall.setAttribute("data-district-shown", current);
  }
  function next() {
    var codes = panels().map(function (p) { return p.getAttribute("data-district"); });
    if (!codes.length) { return; }
    show(codes[(codes.indexOf(current) + 1) % codes.length]);
  }
  show(null);
  window.setInterval(next, cycleMs);
  document.addEventListener("live:updated", function () { show(current); });

  var full = document.getElementById("wall-fullscreen");
  if (full) {
    if (!document.fullscreenEnabled) { full.hidden = true; }
    full.addEventListener("click", function () {
      if (document.fullscreenElement) { document.exitFullscreen(); }
      else { document.documentElement.requestFullscreen().catch(function () { full.hidden = true; }); }
    });
    document.addEventListener("fullscreenchange", function () {
      full.setAttribute("aria-pressed", String(!!document.fullscreenElement));
    });
  }
})();
