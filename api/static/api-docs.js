// Starts Swagger UI on /api/docs (api/docs.py) from flowdesk's own copy of
// swagger-ui-dist: a file rather than an inline script, so that the page runs
// under a Content-Security-Policy with script-src 'self'.
window.ui = SwaggerUIBundle({
  url: "/api/v1/openapi.json",
  dom_id: "#swagger-ui",
  layout: "BaseLayout",
  presets: [SwaggerUIBundle.presets.apis, SwaggerUIBundle.SwaggerUIStandalonePreset],
  deepLinking: true,
  showExtensions: true,
  showCommonExtensions: true,
  // The online validator badge would call validator.swagger.io: no outside address.
  validatorUrl: null,
});
