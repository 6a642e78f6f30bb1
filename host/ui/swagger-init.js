// Starts Swagger UI on the host's own document. A file rather than an inline script, so the
// page's Content-Security-Policy needs no 'unsafe-inline' for scripts.
window.addEventListener("load", function () {
  window.ui = SwaggerUIBundle({
    url: new URL("../openapi.json", document.baseURI).href,
    dom_id: "#swagger-ui",
    deepLinking: true,
    // Tags start collapsed: with every plugin on, the document has about 150 operations, and
    // Swagger UI 5's "list" expansion stops rendering after the first few of them.
    docExpansion: "none",
    withCredentials: true,
    validatorUrl: null, // never call swagger.io from the page
  });
});
