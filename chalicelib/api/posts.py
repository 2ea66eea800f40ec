"""/posts (the feed), /posts/{id}, its comments and likes, and /comments/{id}."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from chalice import Blueprint

from chalicelib.api.routing import PAGE, Ctx, Reply, page_body, route
from chalicelib.domain import posts

if TYPE_CHECKING:
    from chalicelib.api.schemas import (
        CommentBody,
        CommentPatchBody,
        CommentPutBody,
        PostBody,
        PostPatchBody,
        PostPutBody,
    )

bp = Blueprint(__name__)


@route(
    bp,
    "/posts",
    "POST",
    summary="Post about an event, share one, or re-share a post you can see",
    body="PostBody",
    status=201,
)
def create_post(ctx: Ctx) -> dict[str, Any]:
    body: PostBody = ctx.body
    post = posts.create(ctx.caller, body.body, body.event_id, body.shared_post_id)
    return posts.present(ctx.caller, post)


@route(bp, "/posts", "GET", summary="Your feed: your posts and your friends', newest first", query=PAGE)
def feed(ctx: Ctx) -> dict[str, Any]:
    limit, cursor = ctx.page()
    items, next_cursor = posts.feed(ctx.caller, limit, cursor)
    return page_body(items, next_cursor)


@route(bp, "/posts/{post_id}", "GET", summary="A post (its author, the author's friends, can_view_all)")
def get_post(ctx: Ctx, post_id: str) -> dict[str, Any]:
    return posts.get(ctx.caller, post_id)


@route(
    bp,
    "/posts/{post_id}",
    "PATCH",
    summary="Change a post's body or event (author or can_edit_all)",
    body="PostPatchBody",
)
def patch_post(ctx: Ctx, post_id: str) -> dict[str, Any]:
    body: PostPatchBody = ctx.body
    changes: dict[str, str | None] = {
        name: getattr(body, name) for name in ("body", "event_id") if name in body.model_fields_set
    }
    return posts.present(ctx.caller, posts.edit(ctx.caller, post_id, changes, body.version))


@route(
    bp,
    "/posts/{post_id}",
    "PUT",
    summary="Replace a post's body and event (author or can_edit_all)",
    body="PostPutBody",
)
def put_post(ctx: Ctx, post_id: str) -> dict[str, Any]:
    body: PostPutBody = ctx.body
    changes: dict[str, str | None] = {"body": body.body, "event_id": body.event_id}
    return posts.present(ctx.caller, posts.edit(ctx.caller, post_id, changes, body.version))


@route(bp, "/posts/{post_id}", "DELETE", summary="Delete a post (author or can_delete_all)", status=204)
def delete_post(ctx: Ctx, post_id: str) -> Reply:
    posts.delete(ctx.caller, post_id)
    return Reply(204)


@route(bp, "/posts/{post_id}/comments", "POST", summary="Comment on a post you can see", body="CommentBody", status=201)
def add_comment(ctx: Ctx, post_id: str) -> dict[str, Any]:
    body: CommentBody = ctx.body
    return posts.comment_view(posts.add_comment(ctx.caller, post_id, body.body))


@route(bp, "/posts/{post_id}/comments", "GET", summary="A post's comments, oldest first", query=PAGE)
def list_comments(ctx: Ctx, post_id: str) -> dict[str, Any]:
    limit, cursor = ctx.page()
    found = posts.comments(ctx.caller, post_id, limit, cursor)
    return page_body([posts.comment_view(c) for c in found.items], found.next_cursor)


@route(bp, "/comments/{comment_id}", "GET", summary="A comment (its author, or whoever can see its post)")
def get_comment(ctx: Ctx, comment_id: str) -> dict[str, Any]:
    return posts.comment_view(posts.get_comment(ctx.caller, comment_id))


@route(
    bp, "/comments/{comment_id}", "PATCH", summary="Edit a comment (author or can_edit_all)", body="CommentPatchBody"
)
def patch_comment(ctx: Ctx, comment_id: str) -> dict[str, Any]:
    body: CommentPatchBody = ctx.body
    return posts.comment_view(posts.edit_comment(ctx.caller, comment_id, body.body, body.version))


@route(bp, "/comments/{comment_id}", "PUT", summary="Replace a comment (author or can_edit_all)", body="CommentPutBody")
def put_comment(ctx: Ctx, comment_id: str) -> dict[str, Any]:
    body: CommentPutBody = ctx.body
    return posts.comment_view(posts.edit_comment(ctx.caller, comment_id, body.body, body.version))


@route(bp, "/comments/{comment_id}", "DELETE", summary="Delete a comment (author or can_delete_all)", status=204)
def delete_comment(ctx: Ctx, comment_id: str) -> Reply:
    posts.delete_comment(ctx.caller, comment_id)
    return Reply(204)


@route(bp, "/posts/{post_id}/like", "PUT", summary="Like a post you can see (once; repeating changes nothing)")
def like(ctx: Ctx, post_id: str) -> dict[str, Any]:
    return posts.like(ctx.caller, post_id)


@route(bp, "/posts/{post_id}/like", "DELETE", summary="Take back your like (idempotent)", status=204)
def unlike(ctx: Ctx, post_id: str) -> Reply:
    posts.unlike(ctx.caller, post_id)
    return Reply(204)
