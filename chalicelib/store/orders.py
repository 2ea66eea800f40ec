"""Orders and their tickets, and the transactions that sell and give back capacity."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime, timedelta
from typing import Any

from pynamodb.attributes import JSONAttribute, ListAttribute, NumberAttribute, UnicodeAttribute
from pynamodb.exceptions import PutError

from chalicelib.domain.errors import Busy, NotFound
from chalicelib.store import keys
from chalicelib.store import seats as seat_store
from chalicelib.store.events import (
    ON_SALE,
    Event,
    Plan,
    Section,
    SectionShard,
    move,
    section_ref,
    shard_ref,
    with_shards,
)
from chalicelib.store.idempotency import IdempotencyRecord, absent_or_expired
from chalicelib.store.pagination import Page, decode_cursor, page
from chalicelib.store.seats import Seat, SeatId
from chalicelib.store.table import Item, find
from chalicelib.store.tx import ConditionFailed, Tx

CONFIRMED = "confirmed"
CANCELLED = "cancelled"
VALID, CHECKED_IN = "valid", "checked_in"  # a ticket's status (or CANCELLED)


class Order(Item, discriminator="order"):
    order_id = UnicodeAttribute()
    event_id = UnicodeAttribute()
    user_id = UnicodeAttribute()
    organizer_id = UnicodeAttribute()
    status = UnicodeAttribute(default=CONFIRMED)
    section = UnicodeAttribute()
    quantity = NumberAttribute()
    unit_price_cents = NumberAttribute()
    total_cents = NumberAttribute()
    currency = UnicodeAttribute()
    ticket_ids = ListAttribute(of=UnicodeAttribute)
    seats = ListAttribute(of=UnicodeAttribute, null=True)  # reserved seating: one seat id per ticket
    hold_id = UnicodeAttribute(null=True)  # paid for (part of) this hold
    shard_plan = JSONAttribute(null=True)  # [[shard, units]] it was sold from; none: all from shard 0
    payment_ref = UnicodeAttribute(null=True)
    created_at = UnicodeAttribute()
    cancelled_at = UnicodeAttribute(null=True)
    refunded_at = UnicodeAttribute(null=True)

    def set_keys(self) -> Order:
        self.pk, self.sk = keys.order(self.order_id)
        self.gsi1pk = keys.orders_by_user(self.user_id)
        self.gsi1sk = keys.created_sort(self.created_at, self.order_id)
        self.gsi2pk = keys.orders_by_event(self.event_id)
        self.gsi2sk = keys.created_sort(self.created_at, self.order_id)
        return self


class Ticket(Item, discriminator="ticket"):
    ticket_id = UnicodeAttribute()
    order_id = UnicodeAttribute()
    event_id = UnicodeAttribute()
    user_id = UnicodeAttribute()
    section = UnicodeAttribute()
    seat = UnicodeAttribute(null=True)
    status = UnicodeAttribute(default=VALID)
    checked_in_at = UnicodeAttribute(null=True)
    check_in_id = UnicodeAttribute(null=True)  # the check-in request that set it (a resend finds its own)


def ticket_id(order_id: str, n: int) -> str:
    return f"{order_id}-{n}"


def parse_ticket_id(tid: str) -> tuple[str, int] | None:
    """(order id, n) of a ticket id, or None if it can't be one."""
    order_id, _, n = tid.rpartition("-")
    if not order_id or not n.isdigit() or not 1 <= int(n) <= 999:
        return None
    return order_id, int(n)


def tickets_for(order: Order) -> list[Ticket]:
    out = []
    seats = list(order.seats or [])
    for n in range(1, int(order.quantity) + 1):
        pk, sk = keys.ticket(order.order_id, n)
        tid = ticket_id(order.order_id, n)
        out.append(
            Ticket(
                pk,
                sk,
                ticket_id=tid,
                order_id=order.order_id,
                event_id=order.event_id,
                user_id=order.user_id,
                section=order.section,
                seat=seats[n - 1] if seats else None,
                gsi2pk=keys.tickets_by_event(order.event_id),
                gsi2sk=tid,
            )
        )
    return out


def prefetch(
    event_id: str, section: str, idem_key: tuple[str, str] | None
) -> tuple[Event | None, Section | None, IdempotencyRecord | None]:
    """Everything a purchase needs to read, in one BatchGetItem."""
    event, sec, record, _ = prefetch_seats(event_id, section, idem_key, [])
    return event, sec, record


def prefetch_seats(
    event_id: str, section: str, idem_key: tuple[str, str] | None, seat_ids: list[SeatId]
) -> tuple[Event | None, Section | None, IdempotencyRecord | None, dict[SeatId, Seat]]:
    """What a purchase of chosen seats reads, the seats' items included, in one BatchGetItem
    (at most 100 keys: a group is at most 30 seats)."""
    wanted = [keys.event(event_id), keys.section(event_id, section), *(s.key(event_id) for s in seat_ids)]
    if idem_key:
        wanted.append(idem_key)
    by_key = {s.key(event_id): s for s in seat_ids}
    event = sec = record = None
    found: dict[SeatId, Seat] = {}
    for item in Item.batch_get(wanted, consistent_read=True):
        if isinstance(item, Event):
            event = item
        elif isinstance(item, Section):
            sec = item
        elif isinstance(item, IdempotencyRecord):
            record = item
        elif isinstance(item, Seat):
            found[by_key[(item.pk, item.sk)]] = item
    if sec is not None and sec.shard_count > 1:
        with_shards([sec])  # a sharded section: a second round trip for its other shards
    return event, sec, record, found


def plan_of(order: Order) -> Plan:
    """Where the order's capacity came from (orders before sharding: shard 0)."""
    return [(int(i), int(n)) for i, n in order.shard_plan] if order.shard_plan else [(0, int(order.quantity))]


SHARD_TRIES = 4  # a shard that ran dry mid-race: read the shards again and take from others


def place(
    order: Order,
    record: IdempotencyRecord | None,
    token: str | None,
    now: datetime,
    take: Callable[[Tx], None] | None = None,
) -> None:
    """Sell: take capacity (``take``; general admission by default), write the order, its tickets
    and the idempotency record, atomically.

    Raises ConditionFailed naming ``event`` (no longer on sale), ``section``
    (not enough remaining), ``seat:<id>`` (taken), ``hold`` (changed or over) or
    ``idempotency`` (the key was just used).
    """
    base = token or order.order_id
    for attempt in range(SHARD_TRIES):
        tx = Tx()
        if take is not None:  # a general-admission sale checks that its shards are not closed instead
            tx.check("event", Event, keys.event(order.event_id), Event.status == ON_SALE)
        (take or take_general_admission(order))(tx)
        tx.put("order", order.set_keys(), Order.pk.does_not_exist(), fresh=True)
        for ticket in tickets_for(order):
            tx.put("ticket", ticket, Ticket.pk.does_not_exist(), fresh=True)
        if record is not None:
            tx.put("idempotency", record, absent_or_expired(now))
        # The token is derived from the new order's id (or the Idempotency-Key): a retry after a
        # lost answer is a no-op, and the order's own failed condition means "already written".
        # Another shard plan is another transaction: another token (the same one would be refused).
        try:
            tx.commit(token=base if attempt == 0 else f"{base[:33]}~{attempt}")
            return
        except ConditionFailed as e:
            if take is not None or set(e.failed) != {"section"} or not replan(order):
                raise
    raise Busy("The section's shards kept running dry under us; please retry.", retry_after=1)


def replan(order: Order) -> bool:
    """A sharded general-admission sale lost a race for a shard: read the shards again and plan
    anew (True). False when the section has not got the quantity in all its shards together (it is
    sold out) or is not sharded (nothing else to try)."""
    current = order.shard_plan
    if not current:
        return False
    event_id, code = order.event_id, order.section
    pk, sk = keys.section(event_id, code)
    sec = find(Section, (pk, sk), True)
    if sec is None or sec.shard_count == 1 or sec.closed:
        return False
    plan = with_shards([sec])[0].plan_for(int(order.quantity))
    if plan is None:
        return False
    order.shard_plan = [list(p) for p in plan]
    return True


def take_general_admission(order: Order) -> Callable[[Tx], None]:
    """remaining → sold on the shards of the order's plan (read when the transaction is made: a
    re-plan changes it), each conditionally on what that shard has left."""

    def take(tx: Tx) -> None:
        price = int(order.unit_price_cents)
        move(tx, order.event_id, order.section, plan_of(order), "remaining", "sold", price, open_only=True)

    return take


def take_seats(order: Order, seen: dict[SeatId, Seat | None], now_iso: str) -> Callable[[Tx], None]:
    """Chosen seats bought outright: each free, or held by a hold that has expired (as seen)."""
    takeovers = sum(item is not None for item in seen.values())
    fresh = len(seen) - takeovers

    def take(tx: Tx) -> None:
        tx.update(
            "section",
            section_ref(order.event_id, order.section),
            [
                Section.remaining.add(-fresh),
                Section.held.add(-takeovers),
                Section.sold.add(len(seen)),
                Section.revenue_cents.add(int(order.total_cents)),
            ],
            (Section.remaining >= fresh) & (Section.held >= takeovers),
        )
        for seat, item in seen.items():
            sold = seat_store.seat_item(
                order.event_id, seat, status=seat_store.SOLD, order_id=order.order_id, owner_id=order.user_id
            )
            tx.put(f"seat:{seat}", sold, seat_store.free_or_expired(item, now_iso))

    return take


def sell_held_seats(tx: Tx, order: Order, hold_id: str, seats: list[SeatId]) -> None:
    """Seats (or general-admission units) of a hold, paid for: held → sold, on the shards the hold
    took them from (the order's plan)."""
    move(tx, order.event_id, order.section, plan_of(order), "held", "sold", int(order.unit_price_cents))
    for seat in seats:
        actions = [
            Seat.status.set(seat_store.SOLD),
            Seat.order_id.set(order.order_id),
            Seat.owner_id.set(order.user_id),
        ]
        tx.update(f"seat:{seat}", seat_store.ref(order.event_id, seat), actions, seat_store.of_hold(hold_id))


def cancel(order: Order, cancelled_at: str) -> None:
    """Give the capacity back and mark the order and its tickets cancelled, atomically; once only."""
    tx = Tx()
    tx.update(
        "order",
        order,
        [Order.status.set(CANCELLED), Order.cancelled_at.set(cancelled_at)],
        Order.status == CONFIRMED,
    )
    for index, units in plan_of(order):  # back where it came from
        attrs = SectionShard if index else Section
        tx.update(
            "section",
            shard_ref(order.event_id, order.section, index),
            [
                attrs.remaining.add(units),
                attrs.sold.add(-units),
                attrs.revenue_cents.add(-units * int(order.unit_price_cents)),
            ],
            attrs.pk.exists(),
        )
    for text in order.seats or []:
        seat = seat_store.parse(str(text))
        if seat is not None:  # the seat is free again at once
            tx.delete(f"seat:{seat}", seat_store.ref(order.event_id, seat), Seat.order_id == order.order_id)
    for ticket in tickets_for(order):
        tx.update("ticket", ticket, [Ticket.status.set(CANCELLED)], Ticket.pk.exists())
    tx.commit()


def mark_refunded(order: Order, at: str) -> None:
    order.update(actions=[Order.refunded_at.set(Order.refunded_at | at)], condition=Order.pk.exists())


class VoidedOrder(Item, discriminator="voided_order"):
    """Holds the key of an order whose purchase gave up: that order can never be written now."""

    order_id = UnicodeAttribute()


def fence(order_id: str, now: datetime) -> bool:
    """After a purchase whose outcome is unknown: take the order's key for good, so a transaction
    still in flight can no longer write the order (its ``attribute_not_exists`` fails). True if
    fenced (no order, none to come); False if the order is there (it was written)."""
    pk, sk = keys.order(order_id)
    try:
        VoidedOrder(pk, sk, order_id=order_id, ttl=now + timedelta(days=1)).save(condition=Item.pk.does_not_exist())
    except PutError as e:
        if e.cause_response_code == "ConditionalCheckFailedException":
            return False
        raise
    return True


def get(order_id: str) -> Order:
    item = find(Order, keys.order(order_id), False)
    if item is None:
        raise NotFound("No such order.")
    return item


def list_for_user(user_id: str, limit: int, cursor: str | None) -> Page[Order]:
    scope = keys.orders_by_user(user_id)
    start = decode_cursor(cursor, scope)
    results = Item.gsi1.query(scope, scan_index_forward=False, limit=limit, last_evaluated_key=start)
    return page(results, limit, Order, scope)


def list_for_event(event_id: str, limit: int, cursor: str | None, status: str | None = None) -> Page[Order]:
    scope = keys.orders_by_event(event_id)
    start = decode_cursor(cursor, scope + f"#{status}")
    condition = Order.status == status if status else None
    results = Item.gsi2.query(scope, filter_condition=condition, limit=limit, last_evaluated_key=start)
    return page(results, limit, Order, scope + f"#{status}")


def ticket_views(order: Order) -> list[dict[str, Any]]:
    seats = list(order.seats or [])
    return [
        {"id": t, "section": order.section, "seat": seats[i] if seats else None} for i, t in enumerate(order.ticket_ids)
    ]
