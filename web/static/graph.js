/* infra-monitor graphs: draws SVG line charts from /api/status/.../series JSON. Plain JS, no library.
 *
 * Markup: <div class="graph" data-src="/api/status/sites/x/series" data-metric="rtt" data-period="24h"
 *          data-tz="Asia/Ho_Chi_Minh" data-labels='{"rtt_avg": "..."}' data-empty="..."></div>
 * Period buttons: <button data-graph-period="7d"> inside the same .graph-box container.
 */
(function () {
  "use strict";
  var NS = "http://www.w3.org/2000/svg";
  var COLOURS = {
    rtt_avg: "#0b5cad", rtt_min: "#6aa5e0", rtt_max: "#6aa5e0", loss: "#b71c1c",
    in_bps: "#1b7f3b", out_bps: "#7c3aed", in_max: "#86c99b", out_max: "#c4b5fd", commit_bps: "#b45309"
  };
  var DASHED = { commit_bps: "6 4", in_max: "2 3", out_max: "2 3" };

  function el(name, attrs, parent) {
    var node = document.createElementNS(NS, name);
    Object.keys(attrs || {}).forEach(function (k) { node.setAttribute(k, attrs[k]); });
    if (parent) { parent.appendChild(node); }
    return node;
  }

  function numberFmt(lang) {
    var nf = new Intl.NumberFormat(lang === "vi" ? "vi-VN" : "en-GB", { maximumFractionDigits: 2 });
    return function (v) { return nf.format(v); };
  }

  function scaleUnit(unit, maxValue) {
    if (unit !== "bps") { return { div: 1, unit: unit }; }
    if (maxValue >= 1e9) { return { div: 1e9, unit: "Gbps" }; }
    if (maxValue >= 1e6) { return { div: 1e6, unit: "Mbps" }; }
    if (maxValue >= 1e3) { return { div: 1e3, unit: "kbps" }; }
    return { div: 1, unit: "bps" };
  }

  function niceStep(raw) {
    // 1, 2, 2.5 or 5 times a power of ten, at least ``raw``
    if (!(raw > 0)) { return 1; }
    var p = Math.pow(10, Math.floor(Math.log10(raw)));
    var steps = [1, 2, 2.5, 5, 10];
    for (var i = 0; i < steps.length; i++) { if (steps[i] * p >= raw) { return steps[i] * p; } }
    return 10 * p;
  }

  function segments(points, fx, fy) {
    var d = "", pen = false;
    points.forEach(function (p) {
      if (p[1] === null || p[1] === undefined) { pen = false; return; }
      d += (pen ? "L" : "M") + fx(p[0]).toFixed(1) + " " + fy(p[1]).toFixed(1);
      pen = true;
    });
    return d;
  }

  function band(lo, hi, fx, fy) {
    // a filled area between two lines for every run where both have values
    var d = "", run = [];
    function flush() {
      if (run.length > 1) {
        d += "M" + run.map(function (i) { return fx(lo[i][0]).toFixed(1) + " " + fy(hi[i][1]).toFixed(1); }).join("L");
        d += "L" + run.slice().reverse().map(function (i) {
          return fx(lo[i][0]).toFixed(1) + " " + fy(lo[i][1]).toFixed(1);
        }).join("L") + "Z";
      }
      run = [];
    }
    for (var i = 0; i < lo.length; i++) {
      if (lo[i][1] === null || hi[i] === undefined || hi[i][1] === null) { flush(); } else { run.push(i); }
    }
    flush();
    return d;
  }

  function draw(box, data) {
    var lang = document.documentElement.lang || "vi";
    var labels = JSON.parse(box.getAttribute("data-labels") || "{}");
    var tz = box.getAttribute("data-tz") || "Asia/Ho_Chi_Minh";
    var fmt = numberFmt(lang);
    box.innerHTML = "";
    var lines = data.lines.filter(function (l) { return l.points.some(function (p) { return p[1] !== null; }); });
    var measured = lines.filter(function (l) { return l.key !== "commit_bps"; });
    if (!measured.length) {  // a committed rate alone is no measurement
      var empty = document.createElement("p");
      empty.className = "muted graph-empty";
      empty.textContent = box.getAttribute("data-empty") || "—";
      box.appendChild(empty);
      return;
    }
    var W = Math.max(box.clientWidth || 600, 280), H = 240, L = 58, R = 12, T = 22, B = 30;
    var t0 = Date.parse(data.start), t1 = Date.parse(data.end);
    var vmax = 0;
    lines.forEach(function (l) { l.points.forEach(function (p) { if (p[1] !== null && p[1] > vmax) { vmax = p[1]; } }); });
    if (vmax <= 0) { vmax = 1; }
    var u = scaleUnit(lines[0].unit, vmax);
    var step = niceStep(vmax * 1.05 / u.div / 4) * u.div;
    var ymax = Math.ceil(vmax * 1.05 / step) * step;
    var fx = function (t) { return L + (W - L - R) * (t - t0) / Math.max(1, t1 - t0); };
    var fy = function (v) { return T + (H - T - B) * (1 - v / ymax); };
    var svg = el("svg", { viewBox: "0 0 " + W + " " + H, role: "img", "aria-label": box.getAttribute("data-title") || "" });
    for (var v = 0; v <= ymax + step / 2; v += step) {
      var y = fy(v);
      el("line", { x1: L, x2: W - R, y1: y, y2: y, "class": "grid" }, svg);
      el("text", { x: L - 6, y: y + 4, "text-anchor": "end" }, svg).textContent = fmt(v / u.div);
    }
    el("text", { x: 4, y: 12, "class": "unit" }, svg).textContent = u.unit;
    var span = t1 - t0, short = span <= 2 * 86400000;
    var df = new Intl.DateTimeFormat(lang === "vi" ? "vi-VN" : "en-GB", short
      ? { timeZone: tz, hour: "2-digit", minute: "2-digit", hour12: false }
      : { timeZone: tz, day: "2-digit", month: "2-digit" });
    var ticks = W < 500 ? 3 : 6;
    for (var k = 0; k <= ticks; k++) {
      var t = t0 + span * k / ticks, x = fx(t);
      el("line", { x1: x, x2: x, y1: H - B, y2: H - B + 4, "class": "axis" }, svg);
      el("text", { x: x, y: H - 10, "text-anchor": k === 0 ? "start" : (k === ticks ? "end" : "middle") }, svg)
        .textContent = df.format(new Date(t));
    }
    el("line", { x1: L, x2: W - R, y1: H - B, y2: H - B, "class": "axis" }, svg);
    el("line", { x1: L, x2: L, y1: T, y2: H - B, "class": "axis" }, svg);
    var byKey = {};
    lines.forEach(function (l) { byKey[l.key] = l; });
    if (byKey.rtt_min && byKey.rtt_max) {
      el("path", { d: band(byKey.rtt_min.points, byKey.rtt_max.points, fx, fy), fill: "#cfe0f3", stroke: "none",
                   "class": "band" }, svg);
    }
    lines.forEach(function (l) {
      var colour = COLOURS[l.key] || "#333";
      var attrs = { d: segments(l.points, fx, fy), fill: "none", stroke: colour,
                    "stroke-width": l.key === "rtt_avg" || l.key === "loss" ? 2 : 1.5, "class": "line line-" + l.key };
      if (DASHED[l.key]) { attrs["stroke-dasharray"] = DASHED[l.key]; }
      el("path", attrs, svg);
    });
    box.appendChild(svg);
    var legend = document.createElement("div");
    legend.className = "legend-row";
    lines.forEach(function (l) {
      var item = document.createElement("span");
      var sw = document.createElement("span");
      sw.className = "swatch";
      sw.style.background = COLOURS[l.key] || "#333";
      item.appendChild(sw);
      item.appendChild(document.createTextNode((labels[l.key] || l.key) + (l.label ? " – " + l.label : "")));
      legend.appendChild(item);
    });
    box.appendChild(legend);
  }

  function load(box) {
    var url = box.getAttribute("data-src") + (box.getAttribute("data-src").indexOf("?") < 0 ? "?" : "&") +
      "metric=" + encodeURIComponent(box.getAttribute("data-metric")) +
      "&period=" + encodeURIComponent(box.getAttribute("data-period"));
    box.setAttribute("aria-busy", "true");
    fetch(url, { cache: "no-store", credentials: "same-origin" })
      .then(function (r) { if (!r.ok) { throw new Error("HTTP " + r.status); } return r.json(); })
      .then(function (data) { draw(box, data); })
      .catch(function (e) { box.textContent = String(e); })
      .then(function () { box.setAttribute("aria-busy", "false"); });
  }

  document.querySelectorAll(".graph[data-src]").forEach(load);
  document.querySelectorAll(".graph-box").forEach(function (holder) {
    var buttons = holder.querySelectorAll("button[data-graph-period]");
    buttons.forEach(function (btn) {
      btn.addEventListener("click", function () {
        var period = btn.getAttribute("data-graph-period");
        buttons.forEach(function (b) { b.setAttribute("aria-pressed", String(b === btn)); });
        holder.querySelectorAll(".graph[data-src]").forEach(function (box) {
          box.setAttribute("data-period", period);
          load(box);
        });
      });
    });
  });
})();
