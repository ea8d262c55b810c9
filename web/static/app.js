/* infra-monitor: refresh parts of a page in place (no full reload). Plain JS, no library. */
(function () {
  "use strict";

  function refresher(box) {
    var every = Math.max(1, parseFloat(box.getAttribute("data-refresh-s") || "15")) * 1000;
    var url = box.getAttribute("data-refresh-url");
    var lost = document.getElementById("connection-lost");

    function swapHeaderPill() {
      var fresh = box.querySelector("template#fresh-pill-src");
      var pill = document.getElementById("fresh-pill");
      if (fresh && pill) {
        pill.innerHTML = fresh.innerHTML;
      }
    }

    function tick() {
      fetch(url, { cache: "no-store", credentials: "same-origin", headers: { "Accept": "text/html" } })
        .then(function (r) {
          if (!r.ok) { throw new Error("HTTP " + r.status); }
          return r.text();
        })
        .then(function (html) {
          box.innerHTML = html;
          swapHeaderPill();
          if (lost) { lost.hidden = true; }
          box.setAttribute("data-refreshed-at", String(Date.now()));
        })
        .catch(function () {
          if (lost) { lost.hidden = false; }
        })
        .then(function () { window.setTimeout(tick, every); });
    }
    window.setTimeout(tick, every);
  }

  document.querySelectorAll("[data-refresh-url]").forEach(refresher);

  /* filters: submit on change of a select (the button stays for keyboard users and no-JS) */
  document.querySelectorAll("form.filters select").forEach(function (sel) {
    sel.addEventListener("change", function () { sel.form.submit(); });
  });
})();
