"""/events/{id}/waitlist: wait for a sold-out section; an offer comes as a hold."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from chalice import Blueprint

from chalicelib.api.routing import Ctx, Reply, route
from chalicelib.domain import waitlist

if TYPE_CHECKING:
    from chalicelib.api.schemas import WaitlistBody

bp = Blueprint(__name__)


@route(
    bp,
    "/events/{event_id}/waitlist",
    "POST",
    summary="Join the waiting list of a sold-out section",
    body="WaitlistBody",
    status=201,
)
def join(ctx: Ctx, event_id: str) -> dict[str, Any]:
    body: WaitlistBody = ctx.body
    return waitlist.view(waitlist.join(ctx.caller, event_id, body.section, body.quantity))


@route(bp, "/events/{event_id}/waitlist/me", "GET", summary="Your place on the waiting list, or your offer")
def mine(ctx: Ctx, event_id: str) -> dict[str, Any]:
    return waitlist.view(waitlist.mine(ctx.caller, event_id))


@route(bp, "/events/{event_id}/waitlist/me", "DELETE", summary="Leave the waiting list", status=204)
def leave(ctx: Ctx, event_id: str) -> Reply:
    waitlist.leave(ctx.caller, event_id)
    return Reply(204)
