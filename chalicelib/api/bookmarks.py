"""/events/{id}/bookmark and /me/bookmarks."""

from __future__ import annotations

from typing import Any

from chalice import Blueprint

from chalicelib.api.routing import PAGE, Ctx, Reply, page_body, route
from chalicelib.domain import bookmarks

bp = Blueprint(__name__)


@route(bp, "/events/{event_id}/bookmark", "PUT", summary="Bookmark an event and follow its changes (idempotent)")
def bookmark(ctx: Ctx, event_id: str) -> dict[str, Any]:
    return bookmarks.view(bookmarks.add(ctx.caller, event_id))


@route(bp, "/events/{event_id}/bookmark", "DELETE", summary="Remove a bookmark (idempotent)", status=204)
def unbookmark(ctx: Ctx, event_id: str) -> Reply:
    bookmarks.remove(ctx.caller, event_id)
    return Reply(204)


@route(
    bp,
    "/me/bookmarks",
    "GET",
    summary="Your bookmarked events, newest bookmark first",
    query=PAGE,
)
def my_bookmarks(ctx: Ctx) -> dict[str, Any]:
    limit, cursor = ctx.page()
    items, next_cursor = bookmarks.list_mine(ctx.caller, limit, cursor)
    return page_body(items, next_cursor)
