"""Holds: keep capacity or chosen seats for a while, share them with friends, pay seat by seat.

A hold lasts the event's ``hold_minutes``. The holder may assign seats of the
hold to other users; each person then pays for their own seats (their own
order, their own invoice). What is unpaid goes back when the holder releases
it or when the hold expires: expiry is exact (every condition compares
``expires_at`` with now) and the sweeper only returns the capacity.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from datetime import datetime, timedelta
from typing import Any

from chalicelib.domain import orders, seats
from chalicelib.domain.auth import Caller
from chalicelib.domain.errors import Busy, Conflict, Forbidden, Invalid, NotFound, SoldOut
from chalicelib.domain.ids import iso, new_id, utcnow
from chalicelib.store import events as event_store
from chalicelib.store import holds as store
from chalicelib.store import keys, users
from chalicelib.store import orders as order_store
from chalicelib.store import seats as seat_store
from chalicelib.store.events import Event, Section
from chalicelib.store.holds import COMPLETED, EXPIRED, LIVE, RELEASED, Hold
from chalicelib.store.idempotency import Replay
from chalicelib.store.orders import Order
from chalicelib.store.seats import Seat, SeatId
from chalicelib.store.tx import ConditionFailed, Tx, backoff

log = logging.getLogger("boxoffice.holds")
ATTEMPTS = 6  # re-reads after a concurrent change of the same hold or seats


def _pause(attempt: int) -> None:
    backoff(attempt, cap=0.2)


# --- reading -------------------------------------------------------------------------------


def status_of(hold: Hold, now_iso: str) -> str:
    return EXPIRED if hold.status == LIVE and hold.expires_at <= now_iso else str(hold.status)


def view(hold: Hold) -> dict[str, Any]:
    return {
        "id": hold.hold_id,
        "event_id": hold.event_id,
        "user_id": hold.user_id,
        "section": hold.section,
        "quantity": int(hold.quantity),
        "seats": list(hold.seats),
        "assignments": [{"seat": s, "user_id": u} for s, u in sorted(hold.assignments.items())],
        "paid_seats": hold.paid_seats,
        "open_seats": hold.open_seats,
        "paid_quantity": int(hold.paid_quantity),
        "payments": hold.payments,
        "unit_price_cents": int(hold.unit_price_cents),
        "currency": hold.currency,
        "expires_at": hold.expires_at,
        "status": status_of(hold, iso(utcnow())),
        "waitlist_offer": hold.offer_for is not None,
        "created_at": hold.created_at,
    }


def _involved(caller: Caller, hold: Hold) -> bool:
    return caller.id == hold.user_id or caller.id in hold.assignments.values()


def get(caller: Caller, hold_id: str) -> Hold:
    """The hold, for its holder and the users seats are assigned to; 404 for anyone else."""
    hold = store.get(hold_id)
    if not _involved(caller, hold):
        raise NotFound("No such hold.")
    return hold


def list_mine(caller: Caller) -> list[Hold]:
    """The caller's live holds and the live holds with seats assigned to the caller."""
    hold_ids = []
    for item in store.of_user(caller.id):
        if isinstance(item, (Hold, store.HoldAssignment)):
            hold_ids.append(item.hold_id)
    now = iso(utcnow())
    found = {h.hold_id: h for h in store.batch(hold_ids)}
    return [
        found[i]
        for i in dict.fromkeys(hold_ids)
        if i in found and found[i].live_at(now) and _involved(caller, found[i])
    ]


def payable_by(caller: Caller, hold_id: str) -> Hold | None:
    """The hold if the caller may pay for seats of it (holder or assignee), else None."""
    try:
        return get(caller, hold_id)
    except NotFound:
        return None


# --- creating ------------------------------------------------------------------------------


def create(
    caller: Caller,
    event_id: str,
    section: str | None,
    quantity: int | None,
    seat_texts: list[str] | None,
    together: bool,
    idem: tuple[str, str] | None,
) -> Replay:
    """Hold general-admission capacity, chosen seats, or the best block of adjacent seats."""
    earlier = orders.earlier_answer(caller, idem)
    if earlier is not None:
        return earlier
    if seat_texts:
        parsed = seat_store.parse(seat_texts[0])
        section = parsed.section if parsed else None
        if section is None:
            raise seats.bad("seats", f"{seat_texts[0]!r} is not a seat id (<section>-<row>-<number>)")
    assert section is not None
    expired_tried = False
    for attempt in range(ATTEMPTS):
        event, sec = _on_sale(event_id, section)
        now = utcnow()
        if seat_texts:
            wanted = seats.parse_all(sec, seat_texts)
            _check_count(event, len(wanted))
        elif together:
            if sec.kind != "reserved":
                raise seats.bad("together", f"section {section} is general admission: hold by quantity")
            _check_count(event, quantity or 0, reserved=True)
            wanted = _best_block(event_id, sec, quantity or 0, iso(now))
        else:
            if sec.kind != "ga":
                raise seats.bad("seats", f"section {section} is reserved seating: choose seats or together: true")
            _check_count(event, quantity or 0)
            wanted = []
        hold = _new_hold(caller.id, event, sec, now, len(wanted) if wanted else quantity or 0, wanted)
        try:
            return _commit_new(caller, hold, wanted, idem, now)
        except _SeatsMoved as moved:
            if seat_texts:
                raise orders.seat_taken(moved.seats) from moved
            _pause(attempt)  # a block: someone took part of it; look again
        except SoldOut:
            if sec.kind != "ga":
                raise
            if hold.shard_plan and attempt + 1 < ATTEMPTS and _has_left(event_id, sec.code, hold.unpaid):
                continue  # a shard ran dry under us while others have enough: plan again
            if expired_tried or expire_event(event_id) == 0:
                raise
            expired_tried = True
    raise Busy("The seats kept changing while we looked; retry.", retry_after=1)


def _has_left(event_id: str, code: str, units: int) -> bool:
    """Have the section's shards together ``units`` left (a consistent read)?"""
    _, sec = _on_sale(event_id, code)
    return int(sec.remaining) >= units


def _left(hold: Hold) -> int:
    """What all the shards of the hold's section have left (a consistent read)."""
    _, sections = event_store.load(hold.event_id, consistent=True)
    return next((int(s.remaining) for s in sections if s.code == hold.section), 0)


class _SeatsMoved(Exception):
    def __init__(self, seat_ids: list[str]) -> None:
        super().__init__(", ".join(seat_ids))
        self.seats = seat_ids


def _on_sale(event_id: str, code: str) -> tuple[Event, Section]:
    event, sections = event_store.load(event_id, consistent=True)
    sec = next((s for s in sections if s.code == code), None)
    orders.check_sale(event, sec, code, 1, utcnow(), kind=None)
    assert sec is not None
    return event, sec


def _check_count(event: Event, n: int, reserved: bool = False) -> None:
    if n < 1:
        raise seats.bad("quantity", "give a quantity of at least 1")
    limit = int(event.max_tickets_per_order)
    if reserved or n > limit:
        limit = min(limit, seats.MAX_GROUP_SEATS) if reserved else limit
        if n > limit:
            message = f"At most {limit} seats in one hold."
            raise Invalid(message, code="TooManyTickets", details=[{"field": "quantity", "message": message}])


def _new_hold(
    user_id: str,
    event: Event,
    sec: Section,
    now: datetime,
    quantity: int,
    wanted: list[SeatId],
    minutes: int | None = None,
) -> Hold:
    expires = now + timedelta(minutes=minutes or int(event.hold_minutes))
    plan = sec.plan_for(quantity) if sec.kind == "ga" and sec.shard_count > 1 else None
    return Hold(
        shard_plan=[list(p) for p in plan] if plan else None,
        hold_id=new_id(),
        event_id=event.event_id,
        user_id=user_id,
        section=sec.code,
        quantity=quantity,
        seats=[str(s) for s in wanted],
        assignments={},
        payments=[],
        paid_quantity=0,
        unit_price_cents=int(sec.price_cents),
        currency=sec.currency,
        expires_at=iso(expires),
        status=LIVE,
        version=1,
        created_at=iso(now),
    )


def _best_block(event_id: str, sec: Section, n: int, now_iso: str, scattered: bool = False) -> list[SeatId]:
    taken = seats.taken_positions(seat_store.taken_in_section(event_id, sec.code, consistent=True), now_iso)
    block = seats.best_block(int(sec.rows or 0), int(sec.seats_per_row or 0), taken, n)
    if block is None and scattered:
        block = seats.best_free(int(sec.rows or 0), int(sec.seats_per_row or 0), taken, n)
    if block is None:
        raise Conflict(
            f"No {n} adjacent seats are free in one row of section {sec.code}.",
            code="NoAdjacentSeats",
            section=sec.code,
            quantity=n,
        )
    return [SeatId(sec.code, row, number) for row, number in block]


def _commit_new(
    caller: Caller, hold: Hold, wanted: list[SeatId], idem: tuple[str, str] | None, now: datetime
) -> Replay:
    now_iso = iso(now)
    taking: list[tuple[SeatId, Seat | None]] = []
    if wanted:
        found = seat_store.get_many(hold.event_id, wanted)
        busy = [str(s) for s, item in found.items() if not seat_store.expired(item, now_iso)]
        if busy:
            raise _SeatsMoved(sorted(busy))
        taking = [(s, found.get(s)) for s in wanted]
    body = view(hold)
    record, token = orders.first_answer(caller, idem, body, now, hold.hold_id)
    tx = Tx()
    store.add_create(tx, hold, taking, now_iso, record, now)
    try:
        tx.commit(token=token or hold.hold_id)
    except ConditionFailed as e:
        return _refused(e, caller, hold, idem)
    return Replay(201, body)


def _refused(e: ConditionFailed, caller: Caller, hold: Hold, idem: tuple[str, str] | None) -> Replay:
    """The answer to a hold whose transaction was refused: a replay when the same request won
    with the same Idempotency-Key; else the 409 that names why."""
    lost = [tag.split(":", 1)[1] for tag in e.failed if tag.startswith("seat:")]
    if lost:
        raise _SeatsMoved(lost) from e
    if "event" in e:
        raise Conflict("The event is no longer on sale.", code="EventCancelled") from e
    if "claim" in e:
        raise Conflict(
            "You already have a live hold for this event: pay for it or release it first.",
            code="HoldExists",
            hold_id=e.old_string("claim", "hold_id"),
        ) from e
    if "section" in e:
        raise SoldOut(
            f"Not enough left in section {hold.section}.",
            section=hold.section,
            remaining=_left(hold),  # all the shards together, not the one that refused
        ) from e
    earlier = orders.earlier_answer(caller, idem) if "idempotency" in e else None
    if earlier is not None:
        return earlier
    raise Conflict("The hold could not be written; retry.") from e


def offer(
    event: Event, sec: Section, user_id: str, quantity: int, hold_id: str, also: Callable[[Tx, Hold], None]
) -> Hold:
    """A waiting-list offer: an exclusive hold of ``quantity`` for ``user_id`` lasting the event's
    ``waitlist_offer_minutes``, with the best seats free (together if possible), written with
    ``also`` (the entry's update) in one transaction. Raises ConditionFailed / Conflict."""
    now = utcnow()
    wanted = _best_block(event.event_id, sec, quantity, iso(now), scattered=True) if sec.kind == "reserved" else []
    hold = _new_hold(user_id, event, sec, now, quantity, wanted, minutes=int(event.waitlist_offer_minutes))
    hold.hold_id = hold_id
    hold.offer_for = user_id
    taking: list[tuple[SeatId, Seat | None]] = []
    if wanted:
        found = seat_store.get_many(event.event_id, wanted)
        taking = [(s, found.get(s)) for s in wanted]
    tx = Tx()
    store.add_create(tx, hold, taking, iso(now), None, now)
    also(tx, hold)
    tx.commit(token=hold_id)
    return hold


# --- sharing -------------------------------------------------------------------------------


def assign(caller: Caller, hold_id: str, seat_text: str, user_id: str) -> Hold:
    """Keep a seat of the hold for another user (who then pays for it); assigning it to the
    holder takes it back."""
    for attempt in range(ATTEMPTS):
        hold = get(caller, hold_id)
        if caller.id != hold.user_id:
            raise Forbidden("Only the holder may assign seats.")
        _require_live(hold)
        if seat_text not in hold.seats:
            raise seats.bad("seat", f"{seat_text} is not a seat of this hold")
        if seat_text in hold.paid_seats:
            raise Conflict(f"{seat_text} is already paid for.", code="SeatAlreadyPaid", seat=seat_text)
        if user_id != hold.user_id and users.get(user_id) is None:
            raise seats.bad("user_id", "no such user")
        current = hold.assignments.get(seat_text)
        if current == user_id or (current is None and user_id == hold.user_id):
            return hold  # already so
        assignments = dict(hold.assignments)
        tx = Tx()
        if user_id == hold.user_id:  # taken back
            assignments.pop(seat_text, None)
            pk, sk = keys.hold_assignment(hold.hold_id, seat_text)
            tx.delete("assignment", store.HoldAssignment(pk, sk))
        else:  # a put replaces an earlier assignment of the seat
            assignments[seat_text] = user_id
            tx.put("assignment", store.assignment_item(hold, seat_text, user_id))
        actions = [store.Hold.assignments.set(assignments), store.Hold.version.add(1)]
        tx.update("hold", hold, actions, store.hold_condition(hold, iso(utcnow())))
        try:
            tx.commit()
        except ConditionFailed:
            _pause(attempt)
            continue
        hold.assignments, hold.version = assignments, int(hold.version) + 1
        return hold
    raise Busy("The hold kept changing; retry.", retry_after=1)


def _require_live(hold: Hold) -> None:
    now = iso(utcnow())
    if hold.status == COMPLETED:
        raise Conflict("Every seat of this hold is paid for.", code="HoldCompleted")
    if not hold.live_at(now):
        raise Conflict("The hold has expired or was released.", code="HoldExpired", expires_at=hold.expires_at)


# --- paying --------------------------------------------------------------------------------


def pay(
    caller: Caller, event_id: str, hold_id: str, seat_texts: list[str] | None, idem: tuple[str, str] | None
) -> Replay:
    """Pay for seats of a hold: the holder for unassigned seats, an assignee for their own.

    Friends paying at the same moment are serialised by the hold's version: the
    one that loses re-reads the hold and pays on top of the other's payment."""
    earlier = orders.earlier_answer(caller, idem)
    if earlier is not None:
        return earlier
    for attempt in range(ATTEMPTS):
        hold = get(caller, hold_id)
        if hold.event_id != event_id:
            raise NotFound("No such hold for this event.")
        _require_live(hold)
        event, sections = event_store.load(event_id)
        sec = next((s for s in sections if s.code == hold.section), None)
        now = utcnow()
        orders.check_sale(event, sec, hold.section, 1, now, kind=None)
        assert sec is not None
        paying = _seats_to_pay(caller, hold, seat_texts)
        quantity = len(paying) if hold.seats else hold.unpaid
        order = orders.new_order(
            caller, event, sec, quantity, now, seats=[str(s) for s in paying] or None, hold_id=hold.hold_id
        )
        if hold.shard_plan:  # sold from the shards it was held on
            order.shard_plan = [list(p) for p in hold.plan(quantity)]
        try:
            return orders.checkout(caller, order, idem, now, _take_from_hold(hold, order, paying, now), _pay_refused)
        except _HoldChanged:
            _pause(attempt)
    raise Busy("The hold kept changing; retry.", retry_after=1)


class _HoldChanged(Exception):
    pass


def _seats_to_pay(caller: Caller, hold: Hold, seat_texts: list[str] | None) -> list[SeatId]:
    if not hold.seats:
        if caller.id != hold.user_id:
            raise NotFound("No such hold.")
        if seat_texts:
            raise seats.bad("seats", "a general-admission hold is paid as a whole: omit seats")
        if hold.unpaid <= 0:
            raise Conflict("Every ticket of this hold is paid for.", code="HoldCompleted")
        return []
    paid = set(hold.paid_seats)
    if seat_texts is None:
        mine = [s for s in hold.open_seats if _may_pay(caller, hold, s)]
        if not mine:
            raise Conflict("No seat of this hold is left for you to pay.", code="NothingToPay")
        seat_texts = mine
    if len(set(seat_texts)) != len(seat_texts):
        raise seats.bad("seats", "a seat is named twice")
    out = []
    for text in seat_texts:
        if text not in hold.seats:
            raise seats.bad("seats", f"{text} is not a seat of this hold")
        if text in paid:
            raise Conflict(f"{text} is already paid for.", code="SeatAlreadyPaid", seat=text)
        if not _may_pay(caller, hold, text):
            raise Forbidden(f"{text} is assigned to someone else: only they may pay for it.", seat=text)
        seat = seat_store.parse(text)
        assert seat is not None
        out.append(seat)
    return out


def _may_pay(caller: Caller, hold: Hold, seat_text: str) -> bool:
    assignee = hold.assignments.get(seat_text)
    return assignee == caller.id or (assignee is None and caller.id == hold.user_id)


def _take_from_hold(hold: Hold, order: Order, paying: list[SeatId], now: datetime) -> Callable[[Tx], None]:
    now_iso = iso(now)
    payment = {
        "order_id": order.order_id,
        "user_id": order.user_id,
        "seats": [str(s) for s in paying],
        "quantity": int(order.quantity),
    }
    payments = [*hold.payments, payment]
    paid_quantity = int(hold.paid_quantity) + int(order.quantity)
    complete = paid_quantity >= int(hold.quantity)

    def take(tx: Tx) -> None:
        actions: list[Any] = [store.Hold.payments.set(payments), store.Hold.paid_quantity.set(paid_quantity)]
        if complete:
            actions += store.end_actions(COMPLETED, now_iso)
        actions.append(store.Hold.version.add(1))
        tx.update("hold", hold, actions, store.hold_condition(hold, now_iso))
        order_store.sell_held_seats(tx, order, hold.hold_id, paying)
        if complete:
            claim = store.get_claim(hold.event_id, hold.user_id)
            store.add_end(tx, hold, COMPLETED, now_iso, [], claim is not None and claim.hold_id == hold.hold_id)

    return take


def _pay_refused(e: ConditionFailed) -> Replay:
    if "hold" in e:
        raise _HoldChanged()
    if "event" in e:
        raise Conflict("The event is no longer on sale.", code="EventCancelled")
    raise Busy("The hold's seats changed meanwhile; retry.", retry_after=1)


# --- giving back ---------------------------------------------------------------------------


def release(caller: Caller, hold_id: str) -> None:
    """The holder gives back what is unpaid (204 again for a hold already over)."""
    for attempt in range(ATTEMPTS):
        hold = get(caller, hold_id)
        if caller.id != hold.user_id:
            raise Forbidden("Only the holder may release the hold.")
        if hold.status != LIVE:
            return
        now = iso(utcnow())
        if not hold.live_at(now):
            expire(hold)
            return
        try:
            store.end(hold, RELEASED, now, expired_only=False)
            return
        except ConditionFailed:
            _pause(attempt)
    raise Busy("The hold kept changing; retry.", retry_after=1)


def expire(hold: Hold) -> bool:
    """Give back an expired hold's unpaid capacity and seats; True if this call did it."""
    for attempt in range(ATTEMPTS):
        now = iso(utcnow())
        if hold.status != LIVE or hold.expires_at >= now:
            return False
        try:
            store.end(hold, EXPIRED, now, expired_only=True)
            return True
        except ConditionFailed:
            _pause(attempt)
            hold = store.get(hold.hold_id)
    log.warning("hold %s: could not expire it after %d attempts; the next sweep will", hold.hold_id, ATTEMPTS)
    return False


def expire_event(event_id: str) -> int:
    """Expire an event's holds that are over (a buyer met "sold out" while some were): how many."""
    claims = store.expired_claims(event_id, iso(utcnow()))
    return sum(expire(h) for h in store.batch([c.hold_id for c in claims]))


def sweep(now: datetime, since_minute: str) -> tuple[int, str]:
    """Expire every live hold that expired from ``since_minute`` to now (minute buckets of GSI1):
    (holds expired, the first minute the next sweep must look at again)."""
    now_iso = iso(now)
    minute = datetime.fromisoformat(since_minute + ":00+00:00")
    current = now.replace(second=0, microsecond=0)
    count, resume = 0, None
    while minute <= current:
        bucket = minute.strftime("%Y-%m-%dT%H:%M")
        for hold in store.expiring_in(bucket, now_iso):
            if expire(hold):
                count += 1
            elif store.get(hold.hold_id).status == LIVE:
                resume = resume or bucket  # not done: look at this minute again next time
        minute += timedelta(minutes=1)
    # The current minute is looked at again: holds in it may not have expired yet.
    return count, resume or current.strftime("%Y-%m-%dT%H:%M")
