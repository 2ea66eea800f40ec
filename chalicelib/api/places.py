"""Places routes (issue 8): recommendations around an event, and adding places."""

from __future__ import annotations

from typing import Any

from chalice import Blueprint

from chalicelib.api.routing import Ctx, page_body, route
from chalicelib.domain import places

bp = Blueprint(__name__)


@route(
    bp,
    "/events/{event_id}/recommendations",
    "GET",
    summary="Restaurants, transport and activities near the venue: nearest first (100 m bands), then best rated",
    auth_mode="optional",
    query={"kind": "restaurant, transport or activity (default: all three)", "limit": "1-100 (default 20)"},
)
def recommendations(ctx: Ctx, event_id: str) -> dict[str, Any]:
    limit, _ = ctx.page()  # one page: the nearest `limit` places within the radius, no cursor
    items = places.recommendations(event_id, ctx.query("kind", 20), limit)
    return page_body(items, None)


@route(
    bp,
    "/places",
    "POST",
    summary="Add a recommendable place (can_edit_all, or the organizer of an event)",
    body="PlaceBody",
    status=201,
)
def add_place(ctx: Ctx) -> dict[str, Any]:
    return places.view(places.add(ctx.caller, ctx.body.model_dump()))
