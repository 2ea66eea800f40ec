"""/messages and /conversations: private messages between friends (issue 8)."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from chalice import Blueprint

from chalicelib.api.orders import idempotency_of
from chalicelib.api.routing import PAGE, Ctx, page_body, route
from chalicelib.domain import messages
from chalicelib.store.idempotency import Replay

if TYPE_CHECKING:
    from chalicelib.api.schemas import MessageBody

bp = Blueprint(__name__)


@route(
    bp,
    "/messages",
    "POST",
    summary="Send a private message to a friend (403 NotFriends otherwise)",
    body="MessageBody",
    status=201,
    headers={"Idempotency-Key": "optional; a retry with the same key and body returns the first message"},
)
def send(ctx: Ctx) -> Replay:
    body: MessageBody = ctx.body
    return messages.send(ctx.caller, body.to_user_id, body.body, idempotency_of(ctx, "/messages"))


@route(
    bp,
    "/conversations",
    "GET",
    summary="Your conversations, latest message first, each with its latest message and unread count",
    query=PAGE,
)
def conversations(ctx: Ctx) -> dict[str, Any]:
    limit, cursor = ctx.page()
    items, next_cursor = messages.conversations(ctx.caller, limit, cursor)
    return page_body(items, next_cursor)


@route(
    bp,
    "/conversations/{user_id}/messages",
    "GET",
    summary="Your conversation with a user, newest first; the first page marks it read",
    query=PAGE,
)
def conversation(ctx: Ctx, user_id: str) -> dict[str, Any]:
    limit, cursor = ctx.page()
    items, next_cursor = messages.read(ctx.caller, user_id, limit, cursor)
    return page_body(items, next_cursor)
