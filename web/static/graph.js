/* infra-monitor graphs: uPlot charts (vendored in /static/uplot/) of the /api/status/.../series JSON.
 *
 * Markup (web/templates/_graphs.html): <section id="graphs" data-live-keep> holding range buttons
 * <button data-graph-period="7d"> and boxes <div class="graph" data-src=".../series" data-metric="rtt"
 * data-period="24h" data-tz="Asia/Ho_Chi_Minh" data-labels='{"rtt_avg": "…"}' data-time-label="…"
 * data-empty="…">. The chosen range is remembered (localStorage); every chart re-reads its data each minute
 * and keeps its canvas (setData), so a live page refresh never redraws it from scratch.
 * Colours come from CSS custom properties (--graph-*, with colour-blind-safe Okabe-Ito fallbacks) so a
 * dark theme only has to redefine them. No inline script, no eval: runs under the app's strict CSP.
 */
(function () {
  "use strict";
  var STORE = "infra-monitor.graph-period";
  var REFRESH_MS = 60000;
  var PALETTE = {  // key: [CSS variable, fallback]
    rtt_min: ["--graph-min", "#56b4e9"], rtt_avg: ["--graph-avg", "#0072b2"], rtt_max: ["--graph-max", "#d55e00"],
    loss: ["--graph-loss", "#cc79a7"], in_bps: ["--graph-in", "#009e73"], out_bps: ["--graph-out", "#e69f00"],
    commit_bps: ["--graph-commit", "#6b7280"]
  };
  var MIN = 60, H = 3600, D = 86400, MO = 30 * D, Y = 365 * D;
  var TIME_INCRS = [MIN, 5 * MIN, 10 * MIN, 15 * MIN, 30 * MIN, H, 2 * H, 3 * H, 4 * H, 6 * H, 8 * H, 12 * H,
    D, 2 * D, 3 * D, 4 * D, 5 * D, 7 * D, 10 * D, 15 * D, MO, 2 * MO, 3 * MO, 6 * MO, Y];
  var charts = [];

  function cssVar(name, fallback) {
    var v = getComputedStyle(document.documentElement).getPropertyValue(name).trim();
    return v || fallback;
  }
  function colour(key) { var p = PALETTE[key] || ["--ink", "#333333"]; return cssVar(p[0], p[1]); }
  function lang() { return (document.documentElement.lang || "vi").slice(0, 2) === "en" ? "en-GB" : "vi-VN"; }

  function decimalsFor(incr) {  // enough decimals that ticks one increment apart never print alike
    for (var d = 0; d < 12; d++) {
      var x = incr * Math.pow(10, d);
      if (Math.abs(x - Math.round(x)) < 1e-6 * Math.max(1, x)) { return d; }
    }
    return 12;
  }
  function numberFormat(decimals) {
    return new Intl.NumberFormat(lang(), { minimumFractionDigits: decimals, maximumFractionDigits: decimals });
  }
  function bpsUnit(max) {
    if (max >= 1e9) { return [1e9, "Gbps"]; }
    if (max >= 1e6) { return [1e6, "Mbps"]; }
    if (max >= 1e3) { return [1e3, "kbps"]; }
    return [1, "bps"];
  }
  function valueText(v, unit) {  // legend value at the cursor, with its unit
    if (v === null || v === undefined) { return "—"; }
    if (unit === "bps") {
      var u = bpsUnit(Math.abs(v));
      return numberFormat(v / u[0] >= 100 ? 0 : 2).format(v / u[0]) + " " + u[1];
    }
    return numberFormat(Math.abs(v) >= 100 ? 0 : 2).format(v) + " " + unit;
  }

  function parts(tz, seconds) {
    var out = {};
    new Intl.DateTimeFormat("en-GB", { timeZone: tz, year: "numeric", month: "2-digit", day: "2-digit",
      hour: "2-digit", minute: "2-digit", hourCycle: "h23" }).formatToParts(new Date(seconds * 1000))
      .forEach(function (p) { out[p.type] = p.value; });
    return out;
  }
  function dayMonth(p) { return p.day + "/" + p.month; }
  function hourMinute(p) { return p.hour + ":" + p.minute; }

  function minTimeIncr(span) {  // per range: 1 h → minutes, 7 d → one tick per day, 1 y → months
    if (span <= 2 * H) { return MIN; }
    if (span <= 12 * H) { return 15 * MIN; }
    if (span <= 2 * D) { return H; }
    if (span <= 60 * D) { return D; }
    return MO;
  }

  function timeAxis(box, tz, ink, grid) {
    return {
      stroke: ink, grid: { stroke: grid, width: 1 }, ticks: { stroke: grid, width: 1 }, space: 34,
      incrs: function (u, axisIdx, min, max) {
        var lo = minTimeIncr(max - min);
        return TIME_INCRS.filter(function (i) { return i >= lo; });
      },
      values: function (u, splits, axisIdx, space, incr) {
        var labels = splits.map(function (s) {
          var p = parts(tz, s);
          if (incr >= D || (p.hour === "00" && p.minute === "00")) { return dayMonth(p); }
          return hourMinute(p);
        });
        box.setAttribute("data-x-ticks", labels.join("|"));  // what the canvas shows, for tests and tools
        return labels;
      }
    };
  }

  function valueAxis(box, unit, ink, grid) {
    return {
      stroke: ink, grid: { stroke: grid, width: 1 }, ticks: { stroke: grid, width: 1 }, size: 80,
      values: function (u, splits, axisIdx, space, incr) {
        var div = 1, suffix = unit;
        if (unit === "bps") {
          var b = bpsUnit(Math.max(Math.abs(u.scales.y.max || 0), Math.abs(u.scales.y.min || 0)));
          div = b[0]; suffix = b[1];
        }
        var nf = numberFormat(decimalsFor(incr / div));
        var labels = splits.map(function (v, i) {
          return nf.format(v / div) + (i === splits.length - 1 ? " " + suffix : "");
        });
        box.setAttribute("data-y-ticks", labels.join("|"));
        return labels;
      }
    };
  }

  function buildData(series) {
    var lines = series.lines;
    var xs = lines.length ? lines[0].points.map(function (p) { return p[0] / 1000; }) : [];
    var data = [xs];
    lines.forEach(function (l) {
      var byTime = {};
      l.points.forEach(function (p) { byTime[p[0] / 1000] = p[1]; });
      data.push(xs.map(function (x) { return byTime[x] === undefined ? null : byTime[x]; }));
    });
    return data;
  }

  function measured(series) {  // a committed rate alone is no measurement
    return series.lines.some(function (l) {
      return l.key !== "commit_bps" && l.points.some(function (p) { return p[1] !== null; });
    });
  }

  function signature(series) {
    return series.metric + "|" + series.lines.map(function (l) { return l.key + ":" + l.label; }).join(",");
  }

  function options(box, series) {
    var labels = JSON.parse(box.getAttribute("data-labels") || "{}");
    var tz = box.getAttribute("data-tz") || "Asia/Ho_Chi_Minh";
    var ink = cssVar("--muted", "#5b6472"), grid = cssVar("--line", "#d9dee5");
    var unit = series.lines.length ? series.lines[0].unit : "";
    var uSeries = [{
      label: box.getAttribute("data-time-label") || "",
      value: function (u, v) { if (v === null || v === undefined) { return "—"; } var p = parts(tz, v); return dayMonth(p) + " " + hourMinute(p); }
    }];
    series.lines.forEach(function (l) {
      var c = colour(l.key);
      uSeries.push({
        label: (labels[l.key] || l.key) + (l.label ? " – " + l.label : ""),
        stroke: c, width: l.key === "rtt_avg" || l.key === "loss" ? 2 : 1.5,
        dash: l.key === "commit_bps" ? [8, 5] : undefined,
        fill: l.key === "loss" && /^#[0-9a-f]{6}$/i.test(c) ? c + "33" : undefined,  // a light area under the loss
        spanGaps: false, points: { show: false },
        value: function (u, v) { return valueText(v, l.unit); }
      });
    });
    var yScale = series.metric === "loss" ? { range: [0, 100] } : {
      range: function (u, min, max) {
        var top = max > 0 ? max : 1;
        return uPlot.rangeNum(0, top, 0.1, true);
      }
    };
    return {
      width: Math.max(box.clientWidth || 600, 280), height: 240,
      tzDate: function (ts) { return uPlot.tzDate(new Date(ts * 1000), tz); },
      series: uSeries,
      scales: { x: { time: true }, y: yScale },
      axes: [timeAxis(box, tz, ink, grid), valueAxis(box, unit, ink, grid)],
      cursor: { points: { show: true }, drag: { x: false, y: false } },
      legend: { live: true }
    };
  }

  function showEmpty(box, state) {
    if (state.u) { state.u.destroy(); state.u = null; state.sig = ""; }
    var p = box.querySelector(".graph-empty");
    if (!p) {
      box.textContent = "";
      p = document.createElement("p");
      p.className = "muted graph-empty";
      p.textContent = box.getAttribute("data-empty") || "—";
      box.appendChild(p);
    }
  }

  function draw(box, state, series) {
    box.setAttribute("data-step", String(series.resolution_s));
    if (!measured(series)) { showEmpty(box, state); return; }
    var data = buildData(series), sig = signature(series);
    if (state.u && state.sig === sig) {
      state.u.setData(data);  // refresh in place: same canvas, same legend
      return;
    }
    if (state.u) { state.u.destroy(); }
    box.textContent = "";
    state.u = new uPlot(options(box, series), data, box);
    state.sig = sig;
  }

  function load(box, state) {
    var src = box.getAttribute("data-src");
    var url = src + (src.indexOf("?") < 0 ? "?" : "&") + "metric=" + encodeURIComponent(box.getAttribute("data-metric")) +
      "&period=" + encodeURIComponent(box.getAttribute("data-period"));
    box.setAttribute("aria-busy", "true");
    return fetch(url, { cache: "no-store", credentials: "same-origin" })
      .then(function (r) { if (!r.ok) { throw new Error("HTTP " + r.status); } return r.json(); })
      .then(function (series) {
        if (series.period === box.getAttribute("data-period")) { draw(box, state, series); }
      })
      .catch(function (e) { if (!state.u) { box.textContent = String(e.message || e); } })
      .then(function () { box.setAttribute("aria-busy", "false"); });
  }

  function storedPeriod(allowed) {
    try {
      var v = window.localStorage.getItem(STORE);
      return allowed.indexOf(v) >= 0 ? v : null;
    } catch (e) { return null; }
  }
  function remember(period) { try { window.localStorage.setItem(STORE, period); } catch (e) { /* private mode */ } }

  function setup(holder) {
    var buttons = Array.prototype.slice.call(holder.querySelectorAll("button[data-graph-period]"));
    var allowed = buttons.map(function (b) { return b.getAttribute("data-graph-period"); });
    var boxes = Array.prototype.slice.call(holder.querySelectorAll(".graph[data-src]"));
    var states = boxes.map(function () { return { u: null, sig: "" }; });
    function select(period) {
      buttons.forEach(function (b) { b.setAttribute("aria-pressed", String(b.getAttribute("data-graph-period") === period)); });
      boxes.forEach(function (box, i) { box.setAttribute("data-period", period); load(box, states[i]); });
    }
    buttons.forEach(function (btn) {
      btn.addEventListener("click", function () {
        var period = btn.getAttribute("data-graph-period");
        remember(period);
        select(period);
      });
    });
    var first = storedPeriod(allowed) || (boxes.length ? boxes[0].getAttribute("data-period") : "24h");
    select(first);
    window.setInterval(function () {
      if (document.hidden) { return; }
      boxes.forEach(function (box, i) { load(box, states[i]); });
    }, REFRESH_MS);
    boxes.forEach(function (box, i) { charts.push({ box: box, state: states[i] }); });
  }

  var resizeTimer = null;
  window.addEventListener("resize", function () {
    window.clearTimeout(resizeTimer);
    resizeTimer = window.setTimeout(function () {
      charts.forEach(function (c) {
        if (c.state.u) { c.state.u.setSize({ width: Math.max(c.box.clientWidth || 600, 280), height: 240 }); }
      });
    }, 150);
  });

  document.querySelectorAll(".graph-box").forEach(setup);
})();
