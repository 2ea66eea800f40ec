"""/events/{id}/orders and /orders."""

from __future__ import annotations

import re
from typing import TYPE_CHECKING, Any

from chalice import Blueprint

from chalicelib.api.routing import PAGE, Ctx, page_body, route
from chalicelib.domain import holds, orders
from chalicelib.domain.errors import Invalid
from chalicelib.store.idempotency import Replay, request_hash

if TYPE_CHECKING:
    from chalicelib.api.schemas import OrderBody

bp = Blueprint(__name__)
IDEMPOTENCY_KEY = re.compile(r"^[\x21-\x7e]{1,255}$")


@route(
    bp,
    "/events/{event_id}/orders",
    "POST",
    summary="Buy: general admission by quantity, chosen seats, or (part of) a hold",
    body="OrderBody",
    status=201,
    headers={"Idempotency-Key": "optional; a retry with the same key and body returns the first response"},
)
def buy(ctx: Ctx, event_id: str) -> Replay:
    body: OrderBody = ctx.body
    idem = idempotency_of(ctx, f"/events/{event_id}/orders")
    if body.hold_id is not None:
        return holds.pay(ctx.caller, event_id, body.hold_id, body.seats, idem)
    if body.seats is not None:
        return orders.buy_seats(ctx.caller, event_id, body.seats, idem)
    assert body.section is not None and body.quantity is not None
    return orders.buy(ctx.caller, event_id, body.section, body.quantity, idem)


def idempotency_of(ctx: Ctx, path: str) -> tuple[str, str] | None:
    """(Idempotency-Key, hash of the request) when the header is given; 400 if malformed."""
    key = ctx.header("idempotency-key")
    if key is None:
        return None
    if not IDEMPOTENCY_KEY.match(key):
        raise Invalid(
            "Idempotency-Key must be 1-255 visible ASCII characters.",
            details=[{"field": "Idempotency-Key", "message": "1-255 visible ASCII characters"}],
        )
    return key, request_hash("POST", path, ctx.body.model_dump())


@route(bp, "/orders", "GET", summary="Your orders, newest first", query=PAGE)
def list_orders(ctx: Ctx) -> dict[str, Any]:
    limit, cursor = ctx.page()
    page = orders.list_mine(ctx.caller, limit, cursor)
    return page_body([orders.view_for(ctx.caller, o) for o in page.items], page.next_cursor)


@route(bp, "/orders/{order_id}", "GET", summary="An order (owner or can_view_all)")
def get_order(ctx: Ctx, order_id: str) -> dict[str, Any]:
    return orders.view_for(ctx.caller, orders.get(ctx.caller, order_id))


@route(bp, "/orders/{order_id}/cancel", "POST", summary="Cancel and refund an order; capacity returns")
def cancel_order(ctx: Ctx, order_id: str) -> dict[str, Any]:
    return orders.view_for(ctx.caller, orders.cancel(ctx.caller, order_id))
