"""/invoices."""

from __future__ import annotations

from typing import Any

from chalice import Blueprint

from chalicelib.api.routing import PAGE, Ctx, page_body, route
from chalicelib.domain import invoices

bp = Blueprint(__name__)


@route(
    bp,
    "/invoices",
    "GET",
    summary="Your invoices and credit notes, newest first",
    query={"order_id": "only the documents of this order (poll after buying)", **PAGE},
)
def list_invoices(ctx: Ctx) -> dict[str, Any]:
    order_id = ctx.query("order_id", 100)
    if order_id:
        return page_body([invoices.view_for(ctx.caller, i) for i in invoices.for_order(ctx.caller, order_id)], None)
    limit, cursor = ctx.page()
    page = invoices.list_mine(ctx.caller, limit, cursor)
    return page_body([invoices.view_for(ctx.caller, i) for i in page.items], page.next_cursor)


@route(bp, "/invoices/{invoice_id}", "GET", summary="An invoice or credit note (payee or can_view_all)")
def get_invoice(ctx: Ctx, invoice_id: str) -> dict[str, Any]:
    return invoices.view_for(ctx.caller, invoices.get(ctx.caller, invoice_id))
