"""Events with sections: create, read with live availability, edit, cancel, list, sales."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

from pynamodb.expressions.condition import Condition

from chalicelib.auth.permissions import Permission
from chalicelib.domain.auth import Caller
from chalicelib.domain.errors import Conflict, Forbidden, Invalid
from chalicelib.domain.ids import iso, new_id, utcnow
from chalicelib.store import events as store
from chalicelib.store import search as search_store
from chalicelib.store.events import CANCELLED, ON_SALE, Event, Section
from chalicelib.store.pagination import Page, decode_cursor, encode_cursor

EVENT_FIELDS = (
    "title",
    "description",
    "category",
    "ends_at",
    "venue",
    "image_url",
    "max_tickets_per_order",
    "hold_minutes",
    "waitlist_offer_minutes",
)
CLEARABLE = ("ends_at", "image_url")  # PATCH with null removes these; null for any other field is refused
MAX_LIST_RANGE = timedelta(days=5 * 366)
MAX_SECTIONS = 20  # with the event, one edit always fits a 100-item transaction
MAX_CREATE_ITEMS = 100  # one transaction writes the event, its sections and their shards
DEFAULT_LIST_RANGE = timedelta(days=2 * 366)


def _bad(field: str, message: str) -> Invalid:
    return Invalid(message, details=[{"field": field, "message": message}])


def new_section(event_id: str, body: dict[str, Any]) -> Section:
    reserved = body.get("rows") is not None
    capacity = body["rows"] * body["seats_per_row"] if reserved else body["capacity"]
    return Section(
        event_id=event_id,
        code=body["code"],
        name=body["name"],
        price_cents=body["price_cents"],
        currency=body["currency"],
        kind="reserved" if reserved else "ga",
        capacity=capacity,
        rows=body.get("rows"),
        seats_per_row=body.get("seats_per_row"),
        sold=0,
        held=0,
        remaining=capacity,
        revenue_cents=0,
        shards=body.get("shards") or auto_shards(capacity, reserved),
    )


AUTO_SHARD_FROM = 5_000  # below, a section sells out in seconds even at one item's ~500 sales a second
TICKETS_PER_SHARD = 2_500
MAX_AUTO_SHARDS = 16


def auto_shards(capacity: int, reserved: bool = False) -> int:
    """K for a section whose organizer did not choose: 1 for small ones and for reserved seating."""
    if reserved or capacity < AUTO_SHARD_FROM:
        return 1
    return min(MAX_AUTO_SHARDS, capacity // TICKETS_PER_SHARD)


def create(caller: Caller, body: dict[str, Any]) -> tuple[Event, list[Section]]:
    """Create an event and its sections; the caller becomes its organizer."""
    if body["starts_at"] <= utcnow():
        raise _bad("starts_at", "starts_at must be in the future")
    now = iso(utcnow())
    event_id = new_id()
    event = Event(
        event_id=event_id,
        organizer_id=caller.id,
        title=body["title"],
        description=body.get("description", ""),
        category=body["category"],
        starts_at=iso(body["starts_at"]),
        ends_at=iso(body["ends_at"]) if body.get("ends_at") else None,
        venue=body["venue"],
        image_url=body.get("image_url"),
        max_tickets_per_order=body["max_tickets_per_order"],
        hold_minutes=body["hold_minutes"],
        waitlist_offer_minutes=body["waitlist_offer_minutes"],
        currency=body["sections"][0]["currency"],
        status=ON_SALE,
        version=1,
        created_at=now,
        updated_at=now,
    )
    sections = [new_section(event_id, s) for s in body["sections"]]
    if 1 + sum(s.shard_count for s in sections) > MAX_CREATE_ITEMS:
        raise _bad("sections", f"the event, its sections and their shards are at most {MAX_CREATE_ITEMS} items")
    store.create(event, sections)
    return event, sections


def section_view(s: Section) -> dict[str, Any]:
    out: dict[str, Any] = {
        "code": s.code,
        "name": s.name,
        "kind": s.kind,
        "price_cents": int(s.price_cents),
        "currency": s.currency,
        "capacity": int(s.capacity),
        "sold": int(s.sold),
        "held": int(s.held),
        "remaining": int(s.remaining),
        "shards": s.shard_count,
    }
    if s.kind == "reserved":
        out["rows"], out["seats_per_row"] = int(s.rows or 0), int(s.seats_per_row or 0)
    return out


def view(event: Event, sections: list[Section] | None = None) -> dict[str, Any]:
    out: dict[str, Any] = {
        "id": event.event_id,
        "organizer_id": event.organizer_id,
        "title": event.title,
        "description": event.description,
        "category": event.category,
        "starts_at": event.starts_at,
        "ends_at": event.ends_at,
        "venue": event.venue,
        "image_url": event.image_url,
        "max_tickets_per_order": int(event.max_tickets_per_order),
        "hold_minutes": int(event.hold_minutes),
        "waitlist_offer_minutes": int(event.waitlist_offer_minutes),
        "currency": event.currency,
        "status": event.status,
        "created_at": event.created_at,
        "updated_at": event.updated_at,
    }
    if sections is not None:
        out["sections"] = [section_view(s) for s in sorted(sections, key=lambda s: s.code)]
    return out


def get(event_id: str) -> tuple[Event, list[Section]]:
    return store.load(event_id)


def _may_edit(caller: Caller, event: Event, permission: Permission) -> None:
    if caller.id != event.organizer_id and not caller.can(permission):
        raise Forbidden("Only the organizer may change this event.")


def edit(caller: Caller, event_id: str, body: dict[str, Any], replace: bool) -> tuple[Event, list[Section]]:
    """PATCH (``replace=False``) or PUT (``replace=True``) an event and its sections.

    A section's capacity can't go below what is sold + held: that is a
    condition on the section item, so it holds against concurrent sales.
    """
    event, sections = store.load(event_id, consistent=True)
    _may_edit(caller, event, Permission.EDIT_ALL)
    if event.status == CANCELLED:
        raise Conflict("A cancelled event can't be edited.", code="EventCancelled")
    expected = int(event.version)
    for field in ("starts_at", "sections", *EVENT_FIELDS):
        if field in body and body[field] is None and field not in CLEARABLE:
            raise _bad(field, f"{field} can't be null")
    for field in EVENT_FIELDS:
        if field in body:
            value = body[field]
            setattr(event, field, iso(value) if isinstance(value, datetime) else value)
    if body.get("starts_at") is not None:
        if body["starts_at"] <= utcnow():
            raise _bad("starts_at", "starts_at must be in the future")
        event.starts_at = iso(body["starts_at"])
    if event.ends_at is not None and event.ends_at <= event.starts_at:
        raise _bad("ends_at", "ends_at must be after starts_at")
    ops = _section_ops(event, sections, body.get("sections"), replace)
    writes = 1 + sum(s.shard_count if op in ("put", "delete") else 1 for op, s, _, _ in ops)
    if writes > MAX_CREATE_ITEMS:
        raise _bad("sections", f"one edit writes at most {MAX_CREATE_ITEMS} items, shards included")
    event.version = expected + 1
    event.updated_at = iso(utcnow())
    store.save_changes(event, expected, ops)
    return store.load(event_id, consistent=True)


def _section_ops(
    event: Event, sections: list[Section], bodies: list[dict[str, Any]] | None, replace: bool
) -> list[tuple[str, Section, list[Any], Condition | None]]:
    if bodies is None:
        return []
    current = {s.code: s for s in sections}
    ops: list[tuple[str, Section, list[Any], Condition | None]] = []
    for body in bodies:
        body = {k: v for k, v in body.items() if v is not None}
        body.setdefault("currency", event.currency)
        if body["currency"] != event.currency:
            raise _bad("sections", f"all sections of an event use one currency ({event.currency})")
        existing = current.get(body["code"])
        if existing is None:
            ops.append(("put", _complete(event.event_id, body), [], Section.pk.does_not_exist()))
        else:
            op = _section_update(existing, body)
            if op[2]:  # a patch that changes nothing writes nothing
                ops.append(op)
    if replace:
        given = {b["code"] for b in bodies}
        for code, s in current.items():
            if code not in given:
                ops.append(("delete", s, [], (Section.sold == 0) & (Section.held == 0)))
    added = sum(op[0] == "put" for op in ops) - sum(op[0] == "delete" for op in ops)
    if len(current) + added > MAX_SECTIONS:
        raise _bad("sections", f"an event has at most {MAX_SECTIONS} sections")
    return ops


def _complete(event_id: str, body: dict[str, Any]) -> Section:
    from pydantic import ValidationError

    from chalicelib.api.schemas import SectionBody  # the full rules for a new section

    try:
        full = SectionBody.model_validate(body)
    except ValidationError as e:
        raise _bad("sections", f"new section {body.get('code')}: {e.errors()[0]['msg']}") from e
    return new_section(event_id, full.model_dump())


def _section_update(s: Section, body: dict[str, Any]) -> tuple[str, Section, list[Any], Condition | None]:
    actions: list[Any] = []
    for field in ("name", "price_cents"):
        if field in body:
            actions.append(getattr(Section, field).set(body[field]))
    condition: Condition | None = Section.pk.exists()
    if body.get("shards") not in (None, s.shard_count):
        raise _bad("sections", f"section {s.code} has {s.shard_count} shard(s): that is fixed once it exists")
    reserved = s.kind == "reserved"
    if reserved and "capacity" in body:
        raise _bad("sections", f"section {s.code} is reserved seating: change rows or seats_per_row")
    if not reserved and ("rows" in body or "seats_per_row" in body):
        raise _bad("sections", f"section {s.code} is general admission: change capacity")
    old_capacity = int(s.capacity)
    if reserved:
        rows, per_row = body.get("rows", int(s.rows or 0)), body.get("seats_per_row", int(s.seats_per_row or 0))
        new_capacity = rows * per_row
        if per_row != s.seats_per_row or rows < int(s.rows or 0):
            # Seat numbers would change meaning: only while nothing is sold or held.
            condition = condition & (Section.sold == 0) & (Section.held == 0)
        actions += [Section.rows.set(rows), Section.seats_per_row.set(per_row)]
    else:
        new_capacity = body.get("capacity", old_capacity)
    if new_capacity != old_capacity:
        delta = new_capacity - old_capacity
        actions += [Section.capacity.set(new_capacity), Section.remaining.add(delta)]
        # remaining >= old - new, with capacity unchanged since we read it, is sold + held <= new.
        # A sharded section grows and shrinks in shard 0 (the section item): a cut is limited to what
        # shard 0 has left.
        condition = condition & (Section.capacity == old_capacity) & (Section.remaining >= max(0, -delta))
    return ("update", s, actions, condition)


def cancel(caller: Caller, event_id: str) -> Event:
    """Cancel the event: sales stop at once (every sale checks, in its transaction, the event's
    status or, for general admission, that its section's shard is not closed).

    Cancelling a cancelled event is allowed, so that a DELETE interrupted while
    refunding can simply be sent again.
    """
    event, sections = store.load(event_id, consistent=True)
    _may_edit(caller, event, Permission.DELETE_ALL)
    if event.status != CANCELLED:
        store.cancel(event, sections, iso(utcnow()))
    return event


def require_organizer_view(caller: Caller, event: Event) -> None:
    if caller.id != event.organizer_id and not caller.can(Permission.VIEW_ALL):
        raise Forbidden("Only the organizer may see this.")


def sales(caller: Caller, event_id: str) -> dict[str, Any]:
    """Tickets sold, held, remaining and revenue per section and in total."""
    event, sections = store.load(event_id)
    require_organizer_view(caller, event)
    rows, totals = sales_rows(sections)
    return {"event_id": event_id, "currency": event.currency, "sections": rows, "totals": totals}


def sales_rows(sections: list[Section]) -> tuple[list[dict[str, Any]], dict[str, int]]:
    """Per-section counts with revenue, and their totals."""
    rows = [{**section_view(s), "revenue_cents": int(s.revenue_cents)} for s in sorted(sections, key=lambda s: s.code)]
    totals = {k: sum(r[k] for r in rows) for k in ("capacity", "sold", "held", "remaining", "revenue_cents")}
    return rows, totals


def list_events(
    *, limit: int, cursor: str | None, start: datetime | None, end: datetime | None, category: str | None, q: str | None
) -> Page[Event]:
    """Events between two instants, soonest first, month partition by month (with ``q``: the title index)."""
    scope = f"events#{start and iso(start)}#{end and iso(end)}#{category}#{q}"
    start = start or listing_window(utcnow())[0]
    end = end or start + DEFAULT_LIST_RANGE
    if end < start:
        raise _bad("to", "to must not be before from")
    if end - start > MAX_LIST_RANGE:
        raise _bad("to", "at most five years at a time")
    start_iso, end_iso = iso(start), iso(end)
    if q is not None:
        return _search(q, limit, cursor, scope, start_iso, end_iso, category)
    condition: Condition | None = Event.category == category if category else None
    position = decode_cursor(cursor, scope) or {}
    month = str(position.get("m") or start_iso[:7])
    if not (start_iso[:7] <= month <= end_iso[:7]):
        raise _bad("cursor", "the cursor does not belong to this query")
    last_key = position.get("k")
    found: list[Event] = []
    while True:
        results = store.query_month(month, start_iso, end_iso, condition, limit - len(found), last_key)
        found.extend(e for e in results if isinstance(e, Event))
        last_key = getattr(results, "last_evaluated_key", None)
        if last_key is None:
            month = next_month(month)
            if month > end_iso[:7]:
                return Page(found, None)
        if len(found) >= limit:
            return Page(found, encode_cursor({"m": month, "k": last_key}, scope))


def _search(
    q: str, limit: int, cursor: str | None, scope: str, start_iso: str, end_iso: str, category: str | None
) -> Page[Event]:
    """``?q=``: the title index (one partition for any date range), soonest first."""
    folded = search_store.needle(q)
    found, position = search_store.find_events(
        folded, limit, decode_cursor(cursor, f"search#{scope}"), start_iso, end_iso, category or None
    )
    return Page(found, encode_cursor(position, f"search#{scope}"))


def listing_window(now: datetime) -> tuple[datetime, datetime]:
    """What a listing shows when not told: from the start of today, two years on."""
    start = now.replace(hour=0, minute=0, second=0, microsecond=0)
    return start, start + DEFAULT_LIST_RANGE


def next_month(month: str) -> str:
    year, mon = int(month[:4]), int(month[5:7])
    return f"{year + mon // 12:04d}-{mon % 12 + 1:02d}"
