"""/docs: the interactive API documentation, working offline.

Swagger UI 5 (it renders OpenAPI 3.1 and sends real requests with a bearer token from its
Authorize button) is served by the API itself: its files come from the PyPI package
``swagger-ui-py``, pinned in requirements.txt, read from the installed package's directory (never
imported: it would pull in its template engine). Chalice packages requirements into the Lambda
zip, so the same files are there on AWS; nothing is copied into the repo or fetched from a CDN.
"""

from __future__ import annotations

import functools
import importlib.util
from pathlib import Path

from chalice import Blueprint, Response

from chalicelib.api.routing import Ctx, route
from chalicelib.domain.errors import NotFound

bp = Blueprint(__name__)
ASSETS = {"swagger-ui.css": "text/css; charset=utf-8", "swagger-ui-bundle.js": "text/javascript; charset=utf-8"}
CACHE = "public, max-age=86400"

PAGE = """<!doctype html>
<html lang="en">
<head>
  <meta charset="utf-8">
  <title>Boxoffice API</title>
  <link rel="stylesheet" href="docs/swagger-ui.css">
</head>
<body>
  <div id="swagger-ui"></div>
  <script src="docs/swagger-ui-bundle.js"></script>
  <script>
    window.ui = SwaggerUIBundle({
      url: "openapi.json",
      dom_id: "#swagger-ui",
      persistAuthorization: true,
      tryItOutEnabled: true,
      validatorUrl: null
    });
  </script>
</body>
</html>
"""


@route(bp, "/docs", "GET", summary="Interactive API documentation (works offline)", auth_mode="none")
def docs(ctx: Ctx) -> Response:
    return Response(body=PAGE, status_code=200, headers={"Content-Type": "text/html; charset=utf-8"})


@route(bp, "/docs/{asset}", "GET", summary="A file of the documentation page (Swagger UI)", auth_mode="none")
def asset(ctx: Ctx, asset: str) -> Response:
    if asset not in ASSETS:
        raise NotFound("No such file.")
    headers: dict[str, str | list[str]] = {"Content-Type": ASSETS[asset], "Cache-Control": CACHE}
    return Response(body=_read(asset), status_code=200, headers=headers)


@functools.lru_cache(maxsize=len(ASSETS))
def _read(name: str) -> str:
    return (static_dir() / name).read_text(encoding="utf-8")


def static_dir() -> Path:
    spec = importlib.util.find_spec("swagger_ui")
    if spec is None or not spec.submodule_search_locations:
        raise RuntimeError("swagger-ui-py is not installed (requirements.txt)")
    return Path(next(iter(spec.submodule_search_locations))) / "static"
