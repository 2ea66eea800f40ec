"""/events."""

from __future__ import annotations

from datetime import UTC, datetime, time, timedelta
from typing import Any

from chalice import Blueprint

from chalicelib.api.limits import MAX_YEAR, MIN_YEAR
from chalicelib.api.routing import PAGE, Ctx, Reply, page_body, route
from chalicelib.domain import events, orders, seats
from chalicelib.domain.errors import Invalid

bp = Blueprint(__name__)


@route(
    bp,
    "/events",
    "POST",
    summary="Create an event with sections; you become its organizer",
    body="EventBody",
    status=201,
)
def create_event(ctx: Ctx) -> dict[str, Any]:
    event, sections = events.create(ctx.caller, ctx.body.model_dump())
    return events.view(event, sections)


@route(
    bp,
    "/events",
    "GET",
    summary="List events, soonest first",
    auth_mode="optional",
    query={
        "from": "date or instant (default: today)",
        "to": "date (inclusive) or instant (default: two years on)",
        "category": "exact category",
        "q": "partial, case-insensitive title match",
        **PAGE,
    },
)
def list_events(ctx: Ctx) -> dict[str, Any]:
    limit, cursor = ctx.page()
    page = events.list_events(
        limit=limit,
        cursor=cursor,
        start=_instant(ctx, "from", end_of_day=False),
        end=_instant(ctx, "to", end_of_day=True),
        category=ctx.query("category", 50),
        q=ctx.query("q", 100),
    )
    return page_body([events.view(e) for e in page.items], page.next_cursor)


def _instant(ctx: Ctx, name: str, end_of_day: bool) -> datetime | None:
    raw = ctx.query(name, 40)
    if not raw:
        return None
    try:
        if len(raw) == 10:
            value = datetime.combine(datetime.strptime(raw, "%Y-%m-%d").date(), time.min, UTC)
            if end_of_day:
                value += timedelta(days=1, milliseconds=-1)
        else:
            value = datetime.fromisoformat(raw.replace("Z", "+00:00"))
        if not MIN_YEAR <= value.year <= MAX_YEAR:
            raise ValueError("out of range")
        return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)
    except (ValueError, OverflowError) as e:
        raise Invalid(
            f"{name} must be a date (YYYY-MM-DD) or an ISO 8601 instant, years {MIN_YEAR}-{MAX_YEAR}.",
            details=[{"field": name, "message": "not a date in range"}],
        ) from e


@route(
    bp, "/events/{event_id}", "GET", summary="An event with its sections and live availability", auth_mode="optional"
)
def get_event(ctx: Ctx, event_id: str) -> dict[str, Any]:
    return events.view(*events.get(event_id))


@route(bp, "/events/{event_id}", "PATCH", summary="Change an event (organizer or can_edit_all)", body="EventPatchBody")
def patch_event(ctx: Ctx, event_id: str) -> dict[str, Any]:
    body = ctx.body.model_dump(exclude_unset=True)
    return events.view(*events.edit(ctx.caller, event_id, body, replace=False))


@route(bp, "/events/{event_id}", "PUT", summary="Replace an event (organizer or can_edit_all)", body="EventBody")
def put_event(ctx: Ctx, event_id: str) -> dict[str, Any]:
    return events.view(*events.edit(ctx.caller, event_id, ctx.body.model_dump(), replace=True))


@route(bp, "/events/{event_id}", "DELETE", summary="Cancel an event and refund its orders", status=204)
def cancel_event(ctx: Ctx, event_id: str) -> Reply:
    events.cancel(ctx.caller, event_id)
    orders.refund_all(event_id)
    return Reply(204)


@route(bp, "/events/{event_id}/sales", "GET", summary="Sold, held, remaining and revenue per section")
def sales(ctx: Ctx, event_id: str) -> dict[str, Any]:
    return events.sales(ctx.caller, event_id)


@route(
    bp,
    "/events/{event_id}/seats",
    "GET",
    summary="The seat map of a reserved section: every seat, available, held or sold",
    auth_mode="optional",
    query={"section": "a reserved section's code (required)"},
)
def seat_map(ctx: Ctx, event_id: str) -> dict[str, Any]:
    return seats.seat_map(event_id, ctx.query("section", 8) or "")
