"""/support/tickets, their history and comments, and /support/comments/{id} (issue 9)."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from chalice import Blueprint

from chalicelib.api.orders import idempotency_of
from chalicelib.api.routing import PAGE, Ctx, Reply, page_body, route
from chalicelib.domain import support
from chalicelib.domain.errors import Invalid
from chalicelib.store.idempotency import Replay
from chalicelib.store.support import PRIORITIES, STATUSES

if TYPE_CHECKING:
    from chalicelib.api.schemas import (
        SupportCommentBody,
        SupportCommentPatchBody,
        SupportCommentPutBody,
        TicketBody,
        TicketPatchBody,
        TicketPutBody,
    )

bp = Blueprint(__name__)
TICKET = "/support/tickets/{ticket_id}"
COMMENT = "/support/comments/{comment_id}"
IDEMPOTENCY = {"Idempotency-Key": "optional; a retry with the same key and body answers the first response"}
FILTERS = {
    "status": "|".join(STATUSES),
    "priority": "|".join(PRIORITIES),
    "assignee": "a staff member's id, `me` or `none` (staff only)",
    "creator": "a user's id or `me` (others than `me`: staff only)",
}


@route(
    bp,
    "/support/tickets",
    "POST",
    summary="Open a support ticket, optionally about one of your orders or events",
    body="TicketBody",
    status=201,
    headers=IDEMPOTENCY,
)
def open_ticket(ctx: Ctx) -> Replay:
    b: TicketBody = ctx.body
    fields = {"title": b.title, "description": b.description, "priority": b.priority}
    idem = idempotency_of(ctx, "/support/tickets")
    return support.open_ticket(ctx.caller, fields, b.event_id, b.order_id, idem)


@route(
    bp,
    "/support/tickets",
    "GET",
    summary="Tickets, most urgent then oldest first: your own, or (staff) any list",
    query={**FILTERS, **PAGE},
)
def list_tickets(ctx: Ctx) -> dict[str, Any]:
    limit, cursor = ctx.page()
    filters = {
        "status": _choice(ctx, "status", STATUSES),
        "priority": _choice(ctx, "priority", PRIORITIES),
        "assignee": ctx.query("assignee", 100),
        "creator": ctx.query("creator", 100),
    }
    found = support.tickets(ctx.caller, filters, limit, cursor)
    return page_body([support.summary(t) for t in found.items], found.next_cursor)


def _choice(ctx: Ctx, name: str, allowed: tuple[str, ...]) -> str | None:
    value = ctx.query(name, 20)
    if value is not None and value not in allowed:
        message = f"one of {', '.join(allowed)}"
        raise Invalid(f"Query parameter {name}: {message}.", details=[{"field": name, "message": message}])
    return value


@route(bp, TICKET, "GET", summary="A ticket (its creator, its assignee, support staff)")
def get_ticket(ctx: Ctx, ticket_id: str) -> dict[str, Any]:
    return support.view(support.readable(ctx.caller, ticket_id))


@route(
    bp,
    TICKET,
    "PATCH",
    summary="Change some fields of a ticket (each change kept in its history)",
    body="TicketPatchBody",
)
def patch_ticket(ctx: Ctx, ticket_id: str) -> dict[str, Any]:
    b: TicketPatchBody = ctx.body
    fields = {name: getattr(b, name) for name in support.EDITABLE if name in b.model_fields_set}
    return support.view(support.edit(ctx.caller, ticket_id, fields, b.version))


@route(bp, TICKET, "PUT", summary="Replace the editable fields of a ticket", body="TicketPutBody")
def put_ticket(ctx: Ctx, ticket_id: str) -> dict[str, Any]:
    b: TicketPutBody = ctx.body
    fields = {name: getattr(b, name) for name in support.EDITABLE}
    return support.view(support.edit(ctx.caller, ticket_id, fields, b.version))


@route(bp, TICKET, "DELETE", summary="Delete a ticket (its creator or can_delete_all)", status=204)
def delete_ticket(ctx: Ctx, ticket_id: str) -> Reply:
    support.delete(ctx.caller, ticket_id)
    return Reply(204)


@route(bp, f"{TICKET}/history", "GET", summary="A ticket's changes: who, when, what, oldest first", query=PAGE)
def ticket_history(ctx: Ctx, ticket_id: str) -> dict[str, Any]:
    limit, cursor = ctx.page()
    items, next_cursor = support.history(ctx.caller, ticket_id, limit, cursor)
    return page_body(items, next_cursor)


@route(
    bp,
    f"{TICKET}/comments",
    "POST",
    summary="Comment on a ticket; staff may write internal notes (never shown to the creator)",
    body="SupportCommentBody",
    status=201,
    headers=IDEMPOTENCY,
)
def add_comment(ctx: Ctx, ticket_id: str) -> Replay:
    b: SupportCommentBody = ctx.body
    idem = idempotency_of(ctx, f"/support/tickets/{ticket_id}/comments")
    return support.add_comment(ctx.caller, ticket_id, b.body, b.internal, idem)


@route(bp, f"{TICKET}/comments", "GET", summary="A ticket's comments, oldest first", query=PAGE)
def list_comments(ctx: Ctx, ticket_id: str) -> dict[str, Any]:
    limit, cursor = ctx.page()
    found = support.comments(ctx.caller, ticket_id, limit, cursor)
    return page_body([support.comment_view(c) for c in found.items], found.next_cursor)


@route(bp, COMMENT, "GET", summary="A support comment")
def get_comment(ctx: Ctx, comment_id: str) -> dict[str, Any]:
    return support.comment_view(support.get_comment(ctx.caller, comment_id))


@route(bp, COMMENT, "PATCH", summary="Change a support comment", body="SupportCommentPatchBody")
def patch_comment(ctx: Ctx, comment_id: str) -> dict[str, Any]:
    b: SupportCommentPatchBody = ctx.body
    fields = {name: getattr(b, name) for name in ("body", "internal") if getattr(b, name) is not None}
    return support.comment_view(support.edit_comment(ctx.caller, comment_id, fields, b.version))


@route(bp, COMMENT, "PUT", summary="Replace a support comment's body and visibility", body="SupportCommentPutBody")
def put_comment(ctx: Ctx, comment_id: str) -> dict[str, Any]:
    b: SupportCommentPutBody = ctx.body
    fields = {"body": b.body, "internal": b.internal}
    return support.comment_view(support.edit_comment(ctx.caller, comment_id, fields, b.version))


@route(bp, COMMENT, "DELETE", summary="Delete a support comment (its author or can_delete_all)", status=204)
def delete_comment(ctx: Ctx, comment_id: str) -> Reply:
    support.delete_comment(ctx.caller, comment_id)
    return Reply(204)
