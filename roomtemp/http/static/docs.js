// Swagger UI on the API's own document, set up as FastAPI does, from files served here (no
// CDN) and from this file rather than an inline script, which the page's policy forbids.
window.ui = SwaggerUIBundle({
  url: "openapi.json", // relative, as the dashboard's paths are: it works behind a prefix
  dom_id: "#swagger-ui",
  layout: "BaseLayout",
  deepLinking: true,
  showExtensions: true,
  showCommonExtensions: true,
  presets: [SwaggerUIBundle.presets.apis, SwaggerUIBundle.SwaggerUIStandalonePreset],
  validatorUrl: null, // it would send the document to a third party's validator
});
