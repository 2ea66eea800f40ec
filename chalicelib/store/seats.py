"""Taken seats: one item per seat that is held or sold; a free seat has no item.

A section of 50,000 seats therefore costs nothing until seats are taken, and
its seat map is one Query of the taken seats plus the section's shape. A seat
is taken with a condition that allows exactly three states: no item, an item
of a hold that has expired (``hold_expires_at < :now``: expiry is exact, the
sweeper only tidies up), or a hold the caller may pay for.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from pynamodb.attributes import UnicodeAttribute
from pynamodb.expressions.condition import Condition

from chalicelib.store import keys
from chalicelib.store.table import Item

HELD, SOLD = "held", "sold"


class Seat(Item, discriminator="seat"):
    event_id = UnicodeAttribute()
    section = UnicodeAttribute()
    seat_id = UnicodeAttribute()
    status = UnicodeAttribute()  # held | sold
    hold_id = UnicodeAttribute(null=True)
    hold_expires_at = UnicodeAttribute(null=True)
    holder_id = UnicodeAttribute(null=True)
    order_id = UnicodeAttribute(null=True)
    owner_id = UnicodeAttribute(null=True)


@dataclass(frozen=True)
class SeatId:
    section: str
    row: int
    number: int

    def __str__(self) -> str:
        return f"{self.section}-{self.row}-{self.number}"

    def key(self, event_id: str) -> tuple[str, str]:
        return keys.seat(event_id, self.section, self.row, self.number)


def parse(text: str) -> SeatId | None:
    """``A-3-14`` → SeatId, or None when it is not a seat id."""
    section, _, rest = text.partition("-")
    row, _, number = rest.partition("-")
    if not (section and row.isdigit() and number.isdigit() and section.isalnum() and section.isupper()):
        return None
    if not (1 <= int(row) <= 999 and 1 <= int(number) <= 9999) or len(section) > 8:
        return None
    return SeatId(section, int(row), int(number))


def seat_item(event_id: str, seat: SeatId, **attrs: Any) -> Seat:
    pk, sk = seat.key(event_id)
    return Seat(pk, sk, event_id=event_id, section=seat.section, seat_id=str(seat), **attrs)


def ref(event_id: str, seat: SeatId) -> Seat:
    """A keys-only Seat to address in updates and deletes."""
    pk, sk = seat.key(event_id)
    return Seat(pk, sk)


def taken_in_section(event_id: str, section: str, consistent: bool = False) -> list[Seat]:
    """Every held or sold seat of a section: one Query (paged by DynamoDB past 1 MB)."""
    results = Item.query(
        keys.seats(event_id),
        Item.sk.startswith(keys.seat_section_prefix(section)),
        consistent_read=consistent,
    )
    return [s for s in results if isinstance(s, Seat)]


def get_many(event_id: str, seat_ids: Iterable[SeatId]) -> dict[SeatId, Seat]:
    """The items of the given seats that exist (held or sold), by seat: one BatchGetItem."""
    wanted = {s.key(event_id): s for s in seat_ids}
    found: dict[SeatId, Seat] = {}
    for item in Item.batch_get(list(wanted), consistent_read=True):
        if isinstance(item, Seat):
            found[wanted[(item.pk, item.sk)]] = item
    return found


def expired(seat: Seat, now_iso: str) -> bool:
    """A held seat whose hold is over: free for anyone, whether or not the sweeper has run."""
    return seat.status == HELD and seat.hold_expires_at is not None and seat.hold_expires_at < now_iso


def free_or_expired(seen: Seat | None, now_iso: str) -> Condition:
    """The condition that takes a seat as it was seen: absent, or held by a hold that has expired
    (the very hold that was seen: a racing taker changes ``hold_id`` and this fails)."""
    if seen is None:
        return Seat.pk.does_not_exist()
    return (Seat.status == HELD) & (Seat.hold_id == (seen.hold_id or "")) & (Seat.hold_expires_at < now_iso)


def of_hold(hold_id: str) -> Condition:
    """The seat is still held by this hold (not sold, not taken over after expiry)."""
    return (Seat.status == HELD) & (Seat.hold_id == hold_id)
