"""Holds: capacity kept for a while for one user (and the friends they assign seats to).

Every change of a hold is one transaction that moves the section's counters
with it, so ``sold + held + remaining == capacity`` holds at every moment:
creating a hold moves ``remaining → held`` (a seat taken over from an expired
hold stays ``held``: it only changes hands), paying moves ``held → sold``,
releasing or expiring moves what is unpaid back ``held → remaining``.

A hold item changes under an optimistic ``version``: friends paying for their
seats of one hold at the same moment are serialised by it (the loser re-reads
and tries again), so "who paid what" is never lost and the last payment is the
one that completes the hold. Expiry is in the conditions (``expires_at``),
never in TTL; the sweeper (jobs/expire_holds.py) gives expired capacity back.
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import datetime
from typing import Any

from pynamodb.attributes import JSONAttribute, ListAttribute, NumberAttribute, UnicodeAttribute

from chalicelib.domain.errors import NotFound
from chalicelib.store import keys
from chalicelib.store import seats as seat_store
from chalicelib.store.events import ON_SALE, Event, Plan, first_units, move
from chalicelib.store.idempotency import IdempotencyRecord, absent_or_expired
from chalicelib.store.seats import Seat, SeatId
from chalicelib.store.table import Item, find
from chalicelib.store.tx import Tx

LIVE, RELEASED, EXPIRED, COMPLETED = "live", "released", "expired", "completed"


class Hold(Item, discriminator="hold"):
    hold_id = UnicodeAttribute()
    event_id = UnicodeAttribute()
    user_id = UnicodeAttribute()
    section = UnicodeAttribute()
    quantity = NumberAttribute()
    seats = ListAttribute(of=UnicodeAttribute, default=list)  # empty for a general-admission hold
    assignments = JSONAttribute(default=dict)  # seat id → user id
    payments = JSONAttribute(default=list)  # [{order_id, user_id, seats, quantity}]
    paid_quantity = NumberAttribute(default=0)
    unit_price_cents = NumberAttribute()
    currency = UnicodeAttribute()
    expires_at = UnicodeAttribute()
    status = UnicodeAttribute(default=LIVE)
    offer_for = UnicodeAttribute(null=True)  # a waiting-list offer: the entry's user
    offer_record = UnicodeAttribute(null=True)  # and the stream record that made it
    version = NumberAttribute(default=1)
    created_at = UnicodeAttribute()
    ended_at = UnicodeAttribute(null=True)
    shard_plan = JSONAttribute(null=True)  # general admission on a sharded section: [[shard, units]] held

    def set_keys(self) -> Hold:
        self.pk, self.sk = keys.hold(self.hold_id)
        if self.status == LIVE:  # both indexes are sparse: they list live holds only
            self.gsi1pk = keys.holds_expiring(self.expires_at[:16])
            self.gsi1sk = keys.created_sort(self.expires_at, self.hold_id)
            self.gsi2pk = keys.holds_by_user(self.user_id)
            self.gsi2sk = keys.created_sort(self.created_at, self.hold_id)
        return self

    @property
    def paid_seats(self) -> list[str]:
        return [seat for p in self.payments for seat in p.get("seats", [])]

    @property
    def open_seats(self) -> list[str]:
        paid = set(self.paid_seats)
        return [str(s) for s in self.seats if s not in paid]

    @property
    def unpaid(self) -> int:
        return int(self.quantity) - int(self.paid_quantity)

    def live_at(self, now_iso: str) -> bool:
        return self.status == LIVE and now_iso < self.expires_at

    def plan(self, units: int) -> Plan:
        """Where ``units`` of what it holds sit (holds of one shard, and seats: shard 0)."""
        if not self.shard_plan:
            return [(0, units)]
        return first_units([(int(i), int(n)) for i, n in self.shard_plan], units)


class HoldClaim(Item, discriminator="hold_claim"):
    """One live hold per user per event: the claim names the user's hold until it ends or expires."""

    event_id = UnicodeAttribute()
    user_id = UnicodeAttribute()
    hold_id = UnicodeAttribute()
    expires_at = UnicodeAttribute()


class HoldAssignment(Item, discriminator="hold_assignment"):
    """A seat of a hold kept for another user: lists the hold under that user (GSI2)."""

    hold_id = UnicodeAttribute()
    seat_id = UnicodeAttribute()
    user_id = UnicodeAttribute()


def claim_for(hold: Hold) -> HoldClaim:
    pk, sk = keys.hold_claim(hold.event_id, hold.user_id)
    return HoldClaim(
        pk, sk, event_id=hold.event_id, user_id=hold.user_id, hold_id=hold.hold_id, expires_at=hold.expires_at
    )


def assignment_item(hold: Hold, seat_id: str, user_id: str) -> HoldAssignment:
    pk, sk = keys.hold_assignment(hold.hold_id, seat_id)
    return HoldAssignment(
        pk,
        sk,
        hold_id=hold.hold_id,
        seat_id=seat_id,
        user_id=user_id,
        gsi2pk=keys.holds_by_user(user_id),
        gsi2sk=keys.created_sort(hold.created_at, f"{hold.hold_id}#{seat_id}"),
    )


def hold_condition(hold: Hold, now_iso: str) -> Any:
    """The hold is as we read it, and still live."""
    return (Hold.version == int(hold.version)) & (Hold.status == LIVE) & (Hold.expires_at > now_iso)


def add_create(
    tx: Tx,
    hold: Hold,
    taking: list[tuple[SeatId, Seat | None]],
    now_iso: str,
    record: IdempotencyRecord | None,
    now: datetime,
) -> None:
    """Take capacity (or the given seats, as seen) for a new hold, with the user's claim."""
    fresh = int(hold.quantity) - sum(seen is not None for _, seen in taking)
    tx.check("event", Event, keys.event(hold.event_id), Event.status == ON_SALE)
    if fresh:
        move(tx, hold.event_id, hold.section, hold.plan(fresh), "remaining", "held")
    for seat, seen in taking:
        item = seat_store.seat_item(
            hold.event_id,
            seat,
            status=seat_store.HELD,
            hold_id=hold.hold_id,
            hold_expires_at=hold.expires_at,
            holder_id=hold.user_id,
        )
        tx.put(f"seat:{seat}", item, seat_store.free_or_expired(seen, now_iso))
    tx.put("hold", hold.set_keys(), Hold.pk.does_not_exist(), fresh=True)
    tx.put("claim", claim_for(hold), HoldClaim.pk.does_not_exist() | (HoldClaim.expires_at < now_iso))
    if record is not None:
        tx.put("idempotency", record, absent_or_expired(now))


def add_end(tx: Tx, hold: Hold, status: str, now_iso: str, held_seats: list[SeatId], claim_is_ours: bool) -> None:
    """Give back what is unpaid and end the hold (released, expired or completed).

    ``held_seats`` are the unpaid seats still held by this hold (a seat taken over after
    expiry is someone else's now, and its capacity moved with it)."""
    units = len(held_seats) if hold.seats else hold.unpaid
    if status == COMPLETED:
        units = 0
    if units:
        move(tx, hold.event_id, hold.section, hold.plan(units), "held", "remaining")
    for seat in held_seats:
        tx.delete(f"seat:{seat}", seat_store.ref(hold.event_id, seat), seat_store.of_hold(hold.hold_id))
    if claim_is_ours:
        pk, sk = keys.hold_claim(hold.event_id, hold.user_id)
        tx.delete("claim", HoldClaim(pk, sk), HoldClaim.hold_id == hold.hold_id)
    for seat_id in hold.assignments:
        pk, sk = keys.hold_assignment(hold.hold_id, seat_id)
        tx.delete("assignment", HoldAssignment(pk, sk))


def end_actions(status: str, now_iso: str) -> list[Any]:
    """The hold's own changes when it ends: out of both (sparse) indexes. The caller bumps the version."""
    return [
        Hold.status.set(status),
        Hold.ended_at.set(now_iso),
        Hold.gsi1pk.remove(),
        Hold.gsi1sk.remove(),
        Hold.gsi2pk.remove(),
        Hold.gsi2sk.remove(),
    ]


def end(hold: Hold, status: str, now_iso: str, expired_only: bool) -> None:
    """Release or expire a hold: one transaction (raises ConditionFailed when it changed meanwhile)."""
    held = still_held(hold)
    claim = get_claim(hold.event_id, hold.user_id)
    tx = Tx()
    condition = (Hold.version == int(hold.version)) & (Hold.status == LIVE)
    condition = condition & ((Hold.expires_at < now_iso) if expired_only else (Hold.expires_at > now_iso))
    tx.update("hold", hold, [*end_actions(status, now_iso), Hold.version.add(1)], condition)
    add_end(tx, hold, status, now_iso, held, claim is not None and claim.hold_id == hold.hold_id)
    tx.commit()


def still_held(hold: Hold) -> list[SeatId]:
    """The hold's unpaid seats whose items it still holds (one BatchGetItem)."""
    wanted = [s for s in (seat_store.parse(x) for x in hold.open_seats) if s is not None]
    if not wanted:
        return []
    found = seat_store.get_many(hold.event_id, wanted)
    return [s for s in wanted if s in found and found[s].status == seat_store.HELD and found[s].hold_id == hold.hold_id]


def get(hold_id: str, consistent: bool = True) -> Hold:
    item = find(Hold, keys.hold(hold_id), consistent)
    if item is None:
        raise NotFound("No such hold.")
    return item


def get_claim(event_id: str, user_id: str) -> HoldClaim | None:
    return find(HoldClaim, keys.hold_claim(event_id, user_id))


def expired_claims(event_id: str, now_iso: str) -> list[HoldClaim]:
    """The claims of an event's holds that have expired (their sweep may not have run yet)."""
    pk, _ = keys.hold_claim(event_id, "")
    return [c for c in Item.query(pk, consistent_read=True) if isinstance(c, HoldClaim) and c.expires_at < now_iso]


def of_user(user_id: str) -> Iterator[Item]:
    """The user's live holds and the assignments of hold seats to them (GSI2), newest first."""
    return Item.gsi2.query(keys.holds_by_user(user_id), scan_index_forward=False, limit=200)


def batch(hold_ids: list[str]) -> list[Hold]:
    if not hold_ids:
        return []
    return [h for h in Item.batch_get([keys.hold(i) for i in dict.fromkeys(hold_ids)]) if isinstance(h, Hold)]


def expiring_in(minute: str, now_iso: str) -> list[Hold]:
    """Live holds that expired in one minute bucket (GSI1, sparse: live holds only)."""
    results = Item.gsi1.query(keys.holds_expiring(minute), Item.gsi1sk < now_iso)
    return [h for h in results if isinstance(h, Hold)]


class SweepCheckpoint(Item, discriminator="sweep_checkpoint"):
    """The first minute bucket the hold sweeper has not finished."""

    minute = UnicodeAttribute()


def sweep_checkpoint() -> str | None:
    item = find(SweepCheckpoint, keys.sweep_checkpoint())
    return str(item.minute) if item is not None else None


def save_sweep_checkpoint(minute: str) -> None:
    pk, sk = keys.sweep_checkpoint()
    SweepCheckpoint(pk, sk, minute=minute).save()
