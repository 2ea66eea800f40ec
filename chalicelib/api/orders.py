"""/events/{id}/orders and /orders."""

from __future__ import annotations

import re
from typing import Any

from chalice import Blueprint

from chalicelib.api.routing import Ctx, page_body, route
from chalicelib.api.schemas import OrderBody
from chalicelib.domain import orders
from chalicelib.domain.errors import Invalid
from chalicelib.store.idempotency import Replay, request_hash

bp = Blueprint(__name__)
IDEMPOTENCY_KEY = re.compile(r"^[\x21-\x7e]{1,255}$")


@route(
    bp,
    "/events/{event_id}/orders",
    "POST",
    summary="Buy general-admission tickets",
    body=OrderBody,
    status=201,
    headers={"Idempotency-Key": "optional; a retry with the same key and body returns the first response"},
)
def buy(ctx: Ctx, event_id: str) -> Replay:
    body: OrderBody = ctx.body
    key = ctx.header("idempotency-key")
    idem = None
    if key is not None:
        if not IDEMPOTENCY_KEY.match(key):
            raise Invalid(
                "Idempotency-Key must be 1-255 visible ASCII characters.",
                details=[{"field": "Idempotency-Key", "message": "1-255 visible ASCII characters"}],
            )
        idem = (key, request_hash("POST", f"/events/{event_id}/orders", body.model_dump()))
    return orders.buy(ctx.caller, event_id, body.section, body.quantity, idem)


@route(bp, "/orders", "GET", summary="Your orders, newest first", query={"limit": "1-100", "cursor": ""})
def list_orders(ctx: Ctx) -> dict[str, Any]:
    limit, cursor = ctx.page()
    page = orders.list_mine(ctx.caller, limit, cursor)
    return page_body([orders.view(o) for o in page.items], page.next_cursor)


@route(bp, "/orders/{order_id}", "GET", summary="An order (owner or can_view_all)")
def get_order(ctx: Ctx, order_id: str) -> dict[str, Any]:
    return orders.view(orders.get(ctx.caller, order_id))


@route(bp, "/orders/{order_id}/cancel", "POST", summary="Cancel and refund an order; capacity returns")
def cancel_order(ctx: Ctx, order_id: str) -> dict[str, Any]:
    return orders.view(orders.cancel(ctx.caller, order_id))
