"""/users."""

from __future__ import annotations

from typing import Any

from chalice import Blueprint

from chalicelib.api.routing import PAGE, Ctx, Reply, page_body, route
from chalicelib.domain import users

bp = Blueprint(__name__)


@route(bp, "/users", "GET", summary="List users", query={"q": "partial username or name", **PAGE})
def list_users(ctx: Ctx) -> dict[str, Any]:
    limit, cursor = ctx.page()
    page = users.list_users(limit, cursor, ctx.query("q", 100))
    return page_body([users.view(u, ctx.caller) for u in page.items], page.next_cursor)


@route(bp, "/users/{user_id}", "GET", summary="Read a user")
def get_user(ctx: Ctx, user_id: str) -> dict[str, Any]:
    return users.view(users.get(ctx.caller, user_id), ctx.caller)


@route(bp, "/users/{user_id}", "PATCH", summary="Change some fields of a user", body="UserPatchBody")
def patch_user(ctx: Ctx, user_id: str) -> dict[str, Any]:
    changes = ctx.body.model_dump(exclude_none=True)
    return users.view(users.edit(ctx.caller, user_id, changes), ctx.caller)


@route(bp, "/users/{user_id}", "PUT", summary="Replace the editable fields of a user", body="UserPutBody")
def put_user(ctx: Ctx, user_id: str) -> dict[str, Any]:
    changes = ctx.body.model_dump(exclude_none=True)
    return users.view(users.edit(ctx.caller, user_id, changes), ctx.caller)


@route(bp, "/users/{user_id}", "DELETE", summary="Delete a user", status=204)
def delete_user(ctx: Ctx, user_id: str) -> Reply:
    users.delete(ctx.caller, user_id)
    return Reply(204)
