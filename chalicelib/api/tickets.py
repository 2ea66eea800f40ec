"""/tickets routes, and the door's routes under /events/{id}: check-ins, ticket keys, attendees."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from chalice import Blueprint, Response

from chalicelib.api.routing import PAGE, Ctx, page_body, route
from chalicelib.domain import tickets

if TYPE_CHECKING:
    from chalicelib.api.schemas import CheckInBody

bp = Blueprint(__name__)


@route(bp, "/tickets/{ticket_id}", "GET", summary="A ticket with its signed code (holder, owner, organizer)")
def get_ticket(ctx: Ctx, ticket_id: str) -> dict[str, Any]:
    ticket = tickets.get(ctx.caller, ticket_id)
    return tickets.view(ticket, tickets.code_for(ticket))


@route(bp, "/tickets/{ticket_id}/qr.svg", "GET", summary="A ticket's code as a QR image (image/svg+xml)")
def get_ticket_qr(ctx: Ctx, ticket_id: str) -> Response:
    ticket = tickets.get(ctx.caller, ticket_id)
    svg = tickets.qr_svg(tickets.code_for(ticket))
    # Private: the image is the ticket; no shared cache may keep it.
    headers: dict[str, str | list[str]] = {"Content-Type": "image/svg+xml", "Cache-Control": "private, no-store"}
    return Response(body=svg, status_code=200, headers=headers)


@route(bp, "/tickets/{ticket_id}/check-in", "POST", summary="Check a ticket in by id (organizer or can_edit_all)")
def check_in(ctx: Ctx, ticket_id: str) -> dict[str, Any]:
    ticket = tickets.check_in(ctx.caller, ticket_id)
    return tickets.view(ticket, tickets.code_for(ticket))


@route(
    bp,
    "/events/{event_id}/check-ins",
    "POST",
    summary="Check in the ticket a scanned code names (organizer or can_edit_all)",
    body="CheckInBody",
)
def check_in_code(ctx: Ctx, event_id: str) -> dict[str, Any]:
    body: CheckInBody = ctx.body
    ticket = tickets.check_in_code(ctx.caller, event_id, body.code)
    return {"ticket": tickets.view(ticket, body.code)}


@route(
    bp,
    "/events/{event_id}/ticket-keys",
    "GET",
    summary="The public keys (JWK set) that verify the event's ticket codes offline",
    auth_mode="none",
)
def ticket_keys(ctx: Ctx, event_id: str) -> dict[str, Any]:
    return tickets.ticket_keys(event_id)


@route(
    bp,
    "/events/{event_id}/attendees",
    "GET",
    summary="The event's tickets and their holders (organizer or can_view_all)",
    query=PAGE,
)
def attendees(ctx: Ctx, event_id: str) -> dict[str, Any]:
    limit, cursor = ctx.page()
    page = tickets.attendees(ctx.caller, event_id, limit, cursor)
    return page_body(page.items, page.next_cursor)
