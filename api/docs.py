"""The API's documentation page at /api/docs: Swagger UI from the npm package
swagger-ui-dist, served by flowdesk itself (no CDN, so it renders offline).

The page has no inline script (api/static/api-docs.js starts Swagger UI), so it
runs under a Content-Security-Policy that allows scripts from flowdesk only.
"""

from __future__ import annotations

import os
from pathlib import Path

from fastapi import FastAPI
from fastapi.responses import HTMLResponse
from fastapi.staticfiles import StaticFiles

SWAGGER_UI_DIR = Path(
    os.environ.get("FLOWDESK_SWAGGER_UI_DIR")
    or Path(__file__).resolve().parents[1] / "node_modules" / "swagger-ui-dist"
)
SWAGGER_UI_URL = "/static/vendor/swagger-ui"

# Swagger UI sets style attributes and draws icons from data: URLs; nothing comes
# from another origin.
DOCS_HEADERS = {
    "Content-Security-Policy": (
        "default-src 'self'; script-src 'self'; style-src 'self' 'unsafe-inline'; "
        "img-src 'self' data:; connect-src 'self'; font-src 'self'; object-src 'none'; "
        "base-uri 'none'; form-action 'self'; frame-ancestors 'none'"
    ),
    "X-Content-Type-Options": "nosniff",
    "X-Frame-Options": "DENY",
    "Referrer-Policy": "no-referrer",
}

_PAGE = f"""<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>flowdesk API</title>
<link rel="stylesheet" href="{SWAGGER_UI_URL}/swagger-ui.css">
<link rel="icon" type="image/png" href="{SWAGGER_UI_URL}/favicon-32x32.png">
</head>
<body>
<div id="swagger-ui"></div>
<script src="{SWAGGER_UI_URL}/swagger-ui-bundle.js"></script>
<script src="/static/api-docs.js"></script>
</body>
</html>
"""

_MISSING = """<!doctype html>
<html lang="en">
<head><meta charset="utf-8"><title>flowdesk API</title></head>
<body>
<p>The API documentation needs Swagger UI from npm: run <code>make install</code>
(<code>npm ci</code>) and restart. The OpenAPI document is at
<a href="{openapi_url}">{openapi_url}</a>.</p>
</body>
</html>
"""


def install_docs(app: FastAPI, *, docs_url: str, openapi_url: str) -> None:
    """Serve Swagger UI's files and the documentation page at `docs_url`."""
    installed = (SWAGGER_UI_DIR / "swagger-ui-bundle.js").is_file()
    if installed:  # installed from npm by the set-up (package.json)
        app.mount(SWAGGER_UI_URL, StaticFiles(directory=str(SWAGGER_UI_DIR)), name="swagger-ui")
    page = _PAGE if installed else _MISSING.format(openapi_url=openapi_url)

    @app.get(docs_url, include_in_schema=False, response_class=HTMLResponse)
    def api_docs() -> HTMLResponse:
        return HTMLResponse(page, headers=DOCS_HEADERS)
