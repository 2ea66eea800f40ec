"""/invoices, /notifications and /reports/sales."""

from __future__ import annotations

from datetime import date
from typing import Any

from chalice import Blueprint

from chalicelib.api.routing import Ctx, page_body, route
from chalicelib.domain import invoices, notifications, reports
from chalicelib.domain.errors import Invalid
from chalicelib.domain.ids import utcnow

bp = Blueprint(__name__)


@route(
    bp,
    "/invoices",
    "GET",
    summary="Your invoices and credit notes, newest first",
    query={"order_id": "only the documents of this order (poll after buying)", "limit": "1-100", "cursor": ""},
)
def list_invoices(ctx: Ctx) -> dict[str, Any]:
    order_id = ctx.query("order_id", 100)
    if order_id:
        return page_body([invoices.view(i) for i in invoices.for_order(ctx.caller, order_id)], None)
    limit, cursor = ctx.page()
    page = invoices.list_mine(ctx.caller, limit, cursor)
    return page_body([invoices.view(i) for i in page.items], page.next_cursor)


@route(bp, "/invoices/{invoice_id}", "GET", summary="An invoice or credit note (payee or can_view_all)")
def get_invoice(ctx: Ctx, invoice_id: str) -> dict[str, Any]:
    return invoices.view(invoices.get(ctx.caller, invoice_id))


@route(
    bp,
    "/notifications",
    "GET",
    summary="Your notifications, newest first",
    query={"unread": "true: only unread ones", "limit": "1-100", "cursor": ""},
)
def list_notifications(ctx: Ctx) -> dict[str, Any]:
    unread = ctx.query("unread", 5)
    if unread not in (None, "true", "false"):
        raise Invalid("unread is true or false.", details=[{"field": "unread", "message": "true or false"}])
    limit, cursor = ctx.page()
    page = notifications.list_mine(ctx.caller, unread == "true", limit, cursor)
    return page_body([notifications.view(n) for n in page.items], page.next_cursor)


@route(bp, "/notifications/{notification_id}/read", "POST", summary="Mark a notification read")
def read_notification(ctx: Ctx, notification_id: str) -> dict[str, Any]:
    return notifications.view(notifications.mark_read(ctx.caller, notification_id))


@route(
    bp,
    "/reports/sales",
    "GET",
    summary="Daily sales reports made by the scheduled job (can_view_all)",
    query={"date": "YYYY-MM-DD (default today, UTC)", "limit": "1-100", "cursor": ""},
)
def sales_reports(ctx: Ctx) -> dict[str, Any]:
    raw = ctx.query("date", 10)
    try:
        day = date.fromisoformat(raw) if raw else utcnow().date()
    except ValueError as e:
        raise Invalid("date is YYYY-MM-DD.", details=[{"field": "date", "message": "YYYY-MM-DD"}]) from e
    limit, cursor = ctx.page()
    page = reports.list_for(ctx.caller, day, limit, cursor)
    return page_body([reports.view(r) for r in page.items], page.next_cursor)
