"""/events/{id}/holds, /holds and /me/holds: keep seats for a while, share them, release them."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from chalice import Blueprint

from chalicelib.api.orders import idempotency_of
from chalicelib.api.routing import Ctx, Reply, page_body, route
from chalicelib.domain import holds
from chalicelib.store.idempotency import Replay

if TYPE_CHECKING:
    from chalicelib.api.schemas import AssignBody, HoldBody

bp = Blueprint(__name__)


@route(
    bp,
    "/events/{event_id}/holds",
    "POST",
    summary="Hold capacity, chosen seats, or the best block of adjacent seats for the event's hold_minutes",
    body="HoldBody",
    status=201,
    headers={"Idempotency-Key": "optional; a retry with the same key and body returns the first response"},
)
def create_hold(ctx: Ctx, event_id: str) -> Replay:
    body: HoldBody = ctx.body
    idem = idempotency_of(ctx, f"/events/{event_id}/holds")
    return holds.create(ctx.caller, event_id, body.section, body.quantity, body.seats, body.together, idem)


@route(bp, "/holds/{hold_id}", "GET", summary="A hold: who paid what, what is still open (holder or assignee)")
def get_hold(ctx: Ctx, hold_id: str) -> dict[str, Any]:
    return holds.view(holds.get(ctx.caller, hold_id))


@route(
    bp,
    "/holds/{hold_id}/assign",
    "POST",
    summary="Keep a seat of your hold for another user, who pays for it (assign it to yourself to take it back)",
    body="AssignBody",
)
def assign(ctx: Ctx, hold_id: str) -> dict[str, Any]:
    body: AssignBody = ctx.body
    return holds.view(holds.assign(ctx.caller, hold_id, body.seat, body.user_id))


@route(bp, "/holds/{hold_id}", "DELETE", summary="Release what is unpaid of your hold", status=204)
def release(ctx: Ctx, hold_id: str) -> Reply:
    holds.release(ctx.caller, hold_id)
    return Reply(204)


@route(bp, "/me/holds", "GET", summary="Your live holds and the live holds with seats assigned to you")
def my_holds(ctx: Ctx) -> dict[str, Any]:
    return page_body([holds.view(h) for h in holds.list_mine(ctx.caller)], None)
