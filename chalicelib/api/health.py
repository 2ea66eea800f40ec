"""/health and /openapi.json (the docs page is api/docs.py)."""

from __future__ import annotations

from typing import Any

from chalice import Blueprint

from chalicelib.api.routing import Ctx, route
from chalicelib.domain.errors import Unavailable
from chalicelib.store.health import table_reachable

bp = Blueprint(__name__)


@route(bp, "/health", "GET", summary="200 when the table is reachable", auth_mode="none")
def health(ctx: Ctx) -> dict[str, Any]:
    if not table_reachable():
        raise Unavailable("The table is not reachable.")
    return {"status": "ok"}


@route(bp, "/openapi.json", "GET", summary="This API's OpenAPI 3 document", auth_mode="none")
def openapi(ctx: Ctx) -> dict[str, Any]:
    from chalicelib.api.openapi import document  # pydantic's JSON schema and the models: only when asked

    return document()
