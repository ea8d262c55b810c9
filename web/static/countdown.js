/* infra-monitor meeting countdown: the element #countdown (data-start-ms: the start in ms since the epoch, else data-start in ISO 8601;
 * data-duration-s)
 * shows data-before with {hms} replaced by the time left (HH:MM:SS), every second; data-during while the
 * meeting runs, data-after once it is over. The texts come translated from the page; data-ticking="yes" says
 * the script runs. Plain JS, no eval.
 */
(function () {
  "use strict";
  var el = document.getElementById("countdown");
  if (!el) { return; }
  var start = parseFloat(el.getAttribute("data-start-ms") || "");
  if (isNaN(start)) { start = Date.parse(el.getAttribute("data-start") || ""); }
  var duration = parseFloat(el.getAttribute("data-duration-s") || "0") * 1000;
  if (isNaN(start)) { return; }
  function two(n) { return (n < 10 ? "0" : "") + n; }
  function show(text) { if (el.textContent !== text) { el.textContent = text; } }
  function tick() {  // checked ten times a second, so the shown second never lags behind by more than 0.1 s
    var now = Date.now(), left = Math.floor((start - now) / 1000);
    if (left > 0) {
      var h = Math.floor(left / 3600), m = Math.floor((left % 3600) / 60), s = left % 60;
      show((el.getAttribute("data-before") || "{hms}").replace("{hms}", two(h) + ":" + two(m) + ":" + two(s)));
    } else if (now < start + duration) {
      show(el.getAttribute("data-during") || "");
    } else {
      show(el.getAttribute("data-after") || "");
      return;
    }
    window.setTimeout(tick, 100);
  }
  tick();
  el.setAttribute("data-ticking", "yes");
}());
