// Starts Swagger UI on the host's own document. A file rather than an inline script, so the
// page's Content-Security-Policy needs no 'unsafe-inline' for scripts.
window.addEventListener("load", function () {
  window.ui = SwaggerUIBundle({
    url: new URL("../openapi.json", document.baseURI).href,
    dom_id: "#swagger-ui",
    deepLinking: true,
    withCredentials: true,
    validatorUrl: null, // never call swagger.io from the page
  });
});
