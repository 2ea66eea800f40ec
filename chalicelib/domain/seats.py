"""Reserved seating: seat ids, the seat map, and the best block of adjacent seats."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from chalicelib.domain.errors import Invalid
from chalicelib.domain.ids import iso, utcnow
from chalicelib.store import events as event_store
from chalicelib.store import seats as store
from chalicelib.store.events import Section
from chalicelib.store.seats import Seat, SeatId

# One TransactWriteItems holds at most 100 items. Paying for a whole hold writes each seat and
# its ticket (2 per seat), the order, the section, the hold, the event check, the idempotency
# record, the claim and the hold's assignments (up to 1 per seat): 3 per seat + 6 ≤ 100.
MAX_GROUP_SEATS = 30


def bad(field: str, message: str, code: str | None = None) -> Invalid:
    return Invalid(message, details=[{"field": field, "message": message}], code=code)


def parse_all(section: Section, texts: list[str]) -> list[SeatId]:
    """Seat ids of one reserved section, each inside its shape, no repeats (400 otherwise)."""
    if not texts:
        raise bad("seats", "choose at least one seat")
    if len(texts) > MAX_GROUP_SEATS:
        raise bad(
            "seats",
            f"at most {MAX_GROUP_SEATS} seats at a time (one DynamoDB transaction holds 100 items)",
            code="GroupTooLarge",
        )
    if len(set(texts)) != len(texts):
        raise bad("seats", "a seat is named twice")
    out = []
    for text in texts:
        seat = store.parse(text)
        if seat is None:
            raise bad("seats", f"{text!r} is not a seat id (<section>-<row>-<number>, e.g. A-3-14)")
        if seat.section != section.code:
            raise bad("seats", "all seats must be in one section")
        if not (seat.row <= int(section.rows or 0) and seat.number <= int(section.seats_per_row or 0)):
            raise bad("seats", f"section {section.code} has no seat {text}")
        out.append(seat)
    return out


def reserved_section(event_id: str, code: str) -> tuple[Any, Section]:
    event, sections = event_store.load(event_id)
    section = next((s for s in sections if s.code == code), None)
    if section is None:
        raise bad("section", f"the event has no section {code}")
    if section.kind != "reserved":
        raise bad("section", f"section {code} is general admission: it has no seat map", code="NoSeatMap")
    return event, section


def taken_positions(taken: Iterable[Seat], now_iso: str) -> dict[tuple[int, int], Seat]:
    """Seats that are not free now (an expired hold's seat is free)."""
    out = {}
    for item in taken:
        seat = store.parse(item.seat_id)
        if seat is not None and not store.expired(item, now_iso):
            out[(seat.row, seat.number)] = item
    return out


def best_block(
    rows: int, per_row: int, taken: set[tuple[int, int]] | dict[tuple[int, int], Any], n: int
) -> list[tuple[int, int]] | None:
    """The best ``n`` adjacent free seats in one row: the row nearest the front (row 1), then the
    block whose middle is nearest the middle of the row, then the lower seat numbers."""
    if n > per_row:
        return None
    middle = (per_row + 1) / 2
    for row in range(1, rows + 1):
        best: tuple[float, int] | None = None
        start = None  # first seat of the current run of free seats
        for number in range(1, per_row + 2):
            free = number <= per_row and (row, number) not in taken
            if free and start is None:
                start = number
            if not free and start is not None:
                best = _best_in_run(start, number - 1, n, middle, best)
                start = None
        if best is not None:
            return [(row, best[1] + i) for i in range(n)]
    return None


def best_free(
    rows: int, per_row: int, taken: set[tuple[int, int]] | dict[tuple[int, int], Any], n: int
) -> list[tuple[int, int]] | None:
    """The ``n`` best free seats, not necessarily together: front rows first, middle seats first."""
    middle = (per_row + 1) / 2
    free = [
        (row, number)
        for row in range(1, rows + 1)
        for number in sorted(range(1, per_row + 1), key=lambda x: (abs(x - middle), x))
        if (row, number) not in taken
    ]
    return sorted(free[:n]) if len(free) >= n else None


def _best_in_run(
    first: int, last: int, n: int, middle: float, best: tuple[float, int] | None
) -> tuple[float, int] | None:
    if last - first + 1 < n:
        return best
    ideal = middle - (n - 1) / 2  # the start that centres the block
    for s in {max(first, min(last - n + 1, int(ideal))), max(first, min(last - n + 1, int(ideal) + 1))}:
        candidate = (abs(s + (n - 1) / 2 - middle), s)
        if best is None or candidate < best:
            best = candidate
    return best


def seat_map(event_id: str, code: str) -> dict[str, Any]:
    """Every seat of a section with its status, by row: one Query of the taken seats."""
    if not code:
        raise bad("section", "give ?section= (a reserved section's code)")
    _, section = reserved_section(event_id, code)
    now = iso(utcnow())
    taken = taken_positions(store.taken_in_section(event_id, code), now)
    rows, per_row = int(section.rows or 0), int(section.seats_per_row or 0)
    counts = {"available": 0, "held": 0, "sold": 0}
    seats = []
    for row in range(1, rows + 1):
        for number in range(1, per_row + 1):
            item = taken.get((row, number))
            status = "available" if item is None else item.status
            counts[status] += 1
            seats.append({"seat": f"{code}-{row}-{number}", "row": row, "number": number, "status": status})
    return {
        "event_id": event_id,
        "section": code,
        "rows": rows,
        "seats_per_row": per_row,
        "counts": counts,
        "seats": seats,
    }
