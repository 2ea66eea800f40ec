"""/search (issue 8): events for anyone, users for signed-in callers."""

from __future__ import annotations

from typing import Any

from chalice import Blueprint

from chalicelib.api.routing import PAGE, Ctx, page_body, route
from chalicelib.domain import events, search, users
from chalicelib.domain.errors import Invalid
from chalicelib.store.events import Event
from chalicelib.store.users import User

bp = Blueprint(__name__)
TYPES = (search.EVENTS, search.USERS)


@route(
    bp,
    "/search",
    "GET",
    summary="Search events (anyone) and users (signed in) by part of a title, username or name",
    auth_mode="optional",
    query={
        "q": "at least 2 characters; case- and accent-insensitive",
        "type": "events | users; omitted: events, then (signed in) users",
        **PAGE,
    },
)
def search_all(ctx: Ctx) -> dict[str, Any]:
    limit, cursor = ctx.page()
    q = ctx.query("q", 100)
    if q is None:
        raise Invalid("Query parameter q is required.", details=[{"field": "q", "message": "required"}])
    viewer = ctx.signed_in
    kinds = _kinds(ctx.query("type", 20), signed_in=viewer is not None)
    if search.USERS in kinds and viewer is None:
        viewer = ctx.caller  # anonymous: 401 MissingToken
    page = search.search(q, kinds, limit, cursor)
    items = []
    for item in page.items:
        if isinstance(item, Event):
            items.append({"type": "event", **events.view(item)})
        elif isinstance(item, User):
            items.append({"type": "user", **users.view(item, viewer)})
    return page_body(items, page.next_cursor)


def _kinds(kind: str | None, signed_in: bool) -> list[str]:
    if kind is None:
        return [search.EVENTS, search.USERS] if signed_in else [search.EVENTS]
    if kind not in TYPES:
        message = f"one of {', '.join(TYPES)}"
        raise Invalid(f"Query parameter type: {message}.", details=[{"field": "type", "message": message}])
    return [kind]
