"""/docs: the interactive API documentation, working offline.

Swagger UI 5 (it renders OpenAPI 3.1 and sends real requests, with a bearer token from its
Authorize button, to every route) is served by the API itself. Its files come from the PyPI package
``swagger-ui-bundle-v2`` (connexion's maintainers; its version is Swagger UI's), pinned in
requirements.txt and read from the installed package's directory at run time. Chalice packages
requirements into the Lambda zip, so the same files are there on AWS: nothing is copied into the
repo, built, or fetched from a CDN.

The page's icon is inlined as a data: URI: a PNG route would be a binary response, which API
Gateway only decodes when the request's first Accept type is a binary media type (a browser asks
for image/avif first), so on AWS it would arrive as base64 text.
"""

from __future__ import annotations

import base64
import functools
import importlib.util
from pathlib import Path

from chalice import Blueprint, Response

from chalicelib.api.routing import Ctx, route
from chalicelib.domain.errors import NotFound

bp = Blueprint(__name__)
ASSETS = {"swagger-ui.css": "text/css; charset=utf-8", "swagger-ui-bundle.js": "text/javascript; charset=utf-8"}
# The page names each file with Swagger UI's version (?v=…): a new pin is a new URL, so a year is safe.
CACHE = "public, max-age=31536000, immutable"

PAGE = """<!doctype html>
<html lang="en">
<head>
  <meta charset="utf-8">
  <title>Boxoffice API</title>
  <link rel="icon" type="image/png" href="data:image/png;base64,{icon}">
  <link rel="stylesheet" href="docs/swagger-ui.css?v={version}">
  <style>body {{ margin: 0; background: #fafafa; }}</style>
</head>
<body>
  <div id="swagger-ui"></div>
  <script src="docs/swagger-ui-bundle.js?v={version}"></script>
  <script>
    // "Try it out" sends requests to where this page is served from (the stage's prefix included
    // on API Gateway): the document names no server, which would mean the host's root.
    const here = new URL(".", location.href).href.replace(/\\/$/, "");
    fetch("openapi.json")
      .then((r) => r.json())
      .then((spec) => {{
        spec.servers = spec.servers || [{{ url: here }}];
        window.ui = SwaggerUIBundle({{
          spec,
          dom_id: "#swagger-ui",
          persistAuthorization: true,
          tryItOutEnabled: true,
          validatorUrl: null
        }});
      }});
  </script>
</body>
</html>
"""


@route(bp, "/docs", "GET", summary="Interactive API documentation (works offline)", auth_mode="none")
def docs(ctx: Ctx) -> Response:
    return Response(body=page(), status_code=200, headers={"Content-Type": "text/html; charset=utf-8"})


@route(bp, "/docs/{asset}", "GET", summary="A file of the documentation page (Swagger UI)", auth_mode="none")
def asset(ctx: Ctx, asset: str) -> Response:
    if asset not in ASSETS:
        raise NotFound("No such file.")
    headers: dict[str, str | list[str]] = {"Content-Type": ASSETS[asset], "Cache-Control": CACHE}
    return Response(body=_read(asset), status_code=200, headers=headers)


@functools.cache
def page() -> str:
    icon = base64.b64encode((static_dir() / "favicon-32x32.png").read_bytes()).decode()
    return PAGE.format(icon=icon, version=version())


@functools.lru_cache(maxsize=len(ASSETS))
def _read(name: str) -> str:
    return (static_dir() / name).read_text(encoding="utf-8")


def version() -> str:
    """Swagger UI's version, as the package's directory names it."""
    return static_dir().name.removeprefix("swagger-ui-")


@functools.cache
def static_dir() -> Path:
    """The package's one ``vendor/swagger-ui-<version>`` directory (found, not imported)."""
    spec = importlib.util.find_spec("swagger_ui_bundle")
    return find_static(Path(spec.origin).parent if spec and spec.origin else None)


def find_static(package: Path | None) -> Path:
    found = sorted(package.glob("vendor/swagger-ui-5.*")) if package else []
    if len(found) != 1 or not all((found[0] / name).is_file() for name in [*ASSETS, "favicon-32x32.png"]):
        raise RuntimeError("swagger-ui-bundle-v2 (Swagger UI 5) is not installed: see requirements.txt")
    return found[0]
