"""/reports/sales."""

from __future__ import annotations

from datetime import date
from typing import Any

from chalice import Blueprint

from chalicelib.api.routing import PAGE, Ctx, page_body, route
from chalicelib.domain import reports
from chalicelib.domain.errors import Invalid
from chalicelib.domain.ids import utcnow

bp = Blueprint(__name__)


@route(
    bp,
    "/reports/sales",
    "GET",
    summary="Daily sales reports made by the scheduled job (can_view_all)",
    query={"date": "YYYY-MM-DD (default today, UTC)", **PAGE},
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
