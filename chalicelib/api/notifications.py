"""/notifications."""

from __future__ import annotations

from typing import Any

from chalice import Blueprint

from chalicelib.api.routing import PAGE, Ctx, page_body, route
from chalicelib.domain import notifications
from chalicelib.domain.errors import Invalid

bp = Blueprint(__name__)


@route(
    bp,
    "/notifications",
    "GET",
    summary="Your notifications, newest first",
    query={"unread": "true: only unread ones", **PAGE},
)
def list_notifications(ctx: Ctx) -> dict[str, Any]:
    unread = ctx.query("unread", 5)
    if unread not in (None, "true", "false"):
        raise Invalid("unread is true or false.", details=[{"field": "unread", "message": "true or false"}])
    limit, cursor = ctx.page()
    page = notifications.list_mine(ctx.caller, unread == "true", limit, cursor)
    return page_body([notifications.view(n) for n in page.items], page.next_cursor)


@route(bp, "/notifications/{notification_id}/read", "POST", summary="Mark a notification read")
def read_notification(ctx: Ctx, notification_id: str) -> dict[str, Any]:
    return notifications.view(notifications.mark_read(ctx.caller, notification_id))
