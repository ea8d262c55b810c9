"""``/api/docs``: the interactive API documentation (Swagger UI) served entirely by the app.

The page loads Swagger UI from ``/static/swagger/`` (vendored, see web/static/swagger/README.md) and starts it
with ``docs.js``: no CDN, no inline script, so it renders on an isolated network under the app's
Content-Security-Policy (web/headers.py). The spec is ``/api/openapi.json``. Links carry the base's path
prefix (``root_path``, set by :mod:`web.origin`).
"""

from __future__ import annotations

from html import escape

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse

SWAGGER_UI_VERSION = "5.35.0"
DOCS_PATH = "/api/docs"
OPENAPI_PATH = "/api/openapi.json"

router = APIRouter()

_PAGE = """<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>{title} – API</title>
<link rel="icon" href="{root}/static/favicon.svg" type="image/svg+xml">
<link rel="stylesheet" href="{root}/static/swagger/swagger-ui.css?v={version}">
</head>
<body>
<div id="swagger-ui" data-spec="{root}{spec}" data-csrf="{csrf}"></div>
<script src="{root}/static/swagger/swagger-ui-bundle.js?v={version}"></script>
<script src="{root}/static/swagger/docs.js?v={version}"></script>
</body>
</html>
"""


@router.get(DOCS_PATH, response_class=HTMLResponse, include_in_schema=False)
def api_docs(request: Request) -> HTMLResponse:
    root = str(request.scope.get("root_path", "")).rstrip("/")
    principal = getattr(request.state, "principal", None)
    csrf = getattr(principal, "csrf_token", None) or ""
    html = _PAGE.format(title=escape(request.app.title), root=escape(root), spec=OPENAPI_PATH,
                        csrf=escape(csrf), version=SWAGGER_UI_VERSION)
    return HTMLResponse(html, headers={"Cache-Control": "no-store"})
