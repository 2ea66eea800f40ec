"""/friends/requests and /friends: ask, accept, decline, cancel, list, unfriend (issue 8)."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from chalice import Blueprint

from chalicelib.api.routing import PAGE, Ctx, Reply, page_body, route
from chalicelib.domain import friends

if TYPE_CHECKING:
    from chalicelib.api.schemas import FriendRequestBody

bp = Blueprint(__name__)


@route(
    bp,
    "/friends/requests",
    "POST",
    summary="Ask a user to be friends (409 AlreadyFriends, or RequestPending whichever side asked)",
    body="FriendRequestBody",
    status=201,
)
def send_request(ctx: Ctx) -> Reply:
    body: FriendRequestBody = ctx.body
    request = friends.send(ctx.caller, body.user_id)
    return Reply(201, request, {"Location": f"/friends/requests/{request['id']}"})


@route(
    bp,
    "/friends/requests",
    "GET",
    summary="Your pending friend requests, newest first: incoming and outgoing, or ?direction= one of them",
    query={"direction": "incoming | outgoing (default: both)", **PAGE},
)
def list_requests(ctx: Ctx) -> dict[str, Any]:
    limit, cursor = ctx.page()
    items, next_cursor = friends.pending(ctx.caller, ctx.query("direction", 20), limit, cursor)
    return page_body(items, next_cursor)


@route(
    bp,
    "/friends/requests/{request_id}/accept",
    "POST",
    summary="Accept a friend request you received: the friendship (again for a request already accepted)",
)
def accept(ctx: Ctx, request_id: str) -> dict[str, Any]:
    return friends.accept(ctx.caller, request_id)


@route(
    bp,
    "/friends/requests/{request_id}/decline",
    "POST",
    summary="Decline a friend request you received",
    status=204,
)
def decline(ctx: Ctx, request_id: str) -> Reply:
    friends.decline(ctx.caller, request_id)
    return Reply(204)


@route(bp, "/friends/requests/{request_id}", "DELETE", summary="Cancel a friend request you sent", status=204)
def cancel(ctx: Ctx, request_id: str) -> Reply:
    friends.cancel(ctx.caller, request_id)
    return Reply(204)


@route(bp, "/friends", "GET", summary="Your friends, with their public profiles", query=PAGE)
def list_friends(ctx: Ctx) -> dict[str, Any]:
    limit, cursor = ctx.page()
    items, next_cursor = friends.list_friends(ctx.caller, limit, cursor)
    return page_body(items, next_cursor)


@route(
    bp,
    "/friends/{user_id}",
    "DELETE",
    summary="Unfriend a user (idempotent: 204 also when you are not friends)",
    status=204,
)
def unfriend(ctx: Ctx, user_id: str) -> Reply:
    friends.unfriend(ctx.caller, user_id)
    return Reply(204)
