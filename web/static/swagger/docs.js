/* Starts Swagger UI on /api/docs (an external file: the CSP allows no inline script). The spec URL and the
   session's CSRF token come from data attributes of #swagger-ui; "Try it out" sends that token with every
   unsafe request, so a signed-in operator can write as with the forms. Nothing is fetched from outside the
   app: validatorUrl is off. */
"use strict";
window.addEventListener("DOMContentLoaded", function () {
  var root = document.getElementById("swagger-ui");
  var csrf = root.dataset.csrf || "";
  window.ui = SwaggerUIBundle({
    url: root.dataset.spec,
    dom_id: "#swagger-ui",
    deepLinking: true,
    validatorUrl: null,
    layout: "BaseLayout",
    presets: [SwaggerUIBundle.presets.apis],
    requestInterceptor: function (req) {
      var method = (req.method || "GET").toUpperCase();
      if (csrf && ["GET", "HEAD", "OPTIONS"].indexOf(method) < 0) {
        req.headers["X-CSRF-Token"] = csrf;
      }
      return req;
    }
  });
});
