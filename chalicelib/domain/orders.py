"""Buying general-admission tickets, reading and cancelling orders."""

from __future__ import annotations

import logging
from collections.abc import Callable
from datetime import timedelta
from typing import Any

from chalicelib.auth.permissions import Permission
from chalicelib.domain import seats, users
from chalicelib.domain.auth import Caller
from chalicelib.domain.errors import Conflict, Forbidden, Invalid, NotFound, SoldOut
from chalicelib.domain.ids import iso, new_id, utcnow
from chalicelib.domain.payments import Payment, provider
from chalicelib.settings import get_settings
from chalicelib.store import idempotency, keys
from chalicelib.store import orders as store
from chalicelib.store import seats as seat_store
from chalicelib.store import users as user_store
from chalicelib.store.events import CANCELLED as EVENT_CANCELLED
from chalicelib.store.events import Event, Section, load_event
from chalicelib.store.idempotency import IdempotencyRecord, Replay
from chalicelib.store.orders import CONFIRMED, Order
from chalicelib.store.pagination import Page
from chalicelib.store.tx import ConditionFailed, TokenReused, Tx
from chalicelib.store.users import User

log = logging.getLogger("boxoffice.orders")


def view(order: Order, buyer: User | None) -> dict[str, Any]:
    """The order with its buyer (``buyer``: what a lookup of ``order.user_id`` found; None shows a
    deleted user, since staff and organizers still read the orders of deleted accounts)."""
    return {
        "id": order.order_id,
        "event_id": order.event_id,
        "user_id": order.user_id,
        "user": users.ref(order.user_id, buyer),
        "status": order.status,
        "section": order.section,
        "quantity": int(order.quantity),
        "seats": list(order.seats or []),
        "hold_id": order.hold_id,
        "tickets": store.ticket_views(order),
        "unit_price_cents": int(order.unit_price_cents),
        "total_cents": int(order.total_cents),
        "currency": order.currency,
        "created_at": order.created_at,
        "cancelled_at": order.cancelled_at,
        "refunded_at": order.refunded_at,
    }


def view_for(caller: Caller, order: Order) -> dict[str, Any]:
    """The order as ``caller`` reads it: the buyer is looked up only when that is someone else."""
    return view(order, caller.user if caller.id == order.user_id else user_store.get(order.user_id))


def buy(caller: Caller, event_id: str, section: str, quantity: int, idem: tuple[str, str] | None) -> Replay:
    """Buy ``quantity`` general-admission tickets: one read, one transaction.

    ``idem`` is (Idempotency-Key, request hash): a retry with the same key and
    body replays the first response; the same key with another body is a 409.
    """
    idem_key = keys.idempotency(caller.id, idem[0]) if idem else None
    event, sec, record = store.prefetch(event_id, section, idem_key)
    now = utcnow()
    if record is not None and idempotency.live(record, now):
        return replay(record, idem)
    check_sale(event, sec, section, quantity, now)
    assert event is not None and sec is not None
    if int(sec.remaining) < quantity and int(sec.held) > 0 and _expired_holds_returned(event_id):
        event, sec, _ = store.prefetch(event_id, section, None)  # capacity came back from expired holds
        assert event is not None and sec is not None
    plan = sec.plan_for(quantity)
    if plan is None:
        raise _sold_out(section, int(sec.remaining))
    order = new_order(caller, event, sec, quantity, now)
    if sec.shard_count > 1:  # where to take it from; the store plans again if that shard runs dry
        order.shard_plan = [list(p) for p in plan]
    return checkout(caller, order, idem, now, None, lambda e: _sold_out_or_conflict(e, section, order))


def _expired_holds_returned(event_id: str) -> bool:
    """Expiry is exact: give back the event's holds that are over now, without waiting for the sweeper."""
    from chalicelib.domain import holds  # holds pay through orders: import late

    return holds.expire_event(event_id) > 0


def buy_seats(caller: Caller, event_id: str, seat_texts: list[str], idem: tuple[str, str] | None) -> Replay:
    """Buy chosen seats outright, all or nothing: 409 ``SeatTaken`` names the seats that are taken.

    Each seat is taken with a condition on how it was seen: absent, or held by
    a hold that has expired. Seats the caller holds themselves are paid for
    through their hold."""
    first = seat_store.parse(seat_texts[0]) if seat_texts else None
    code = first.section if first else ""
    idem_key = keys.idempotency(caller.id, idem[0]) if idem else None
    # The seats are read with the event and section (one round trip); their shape is checked after.
    guess = [s for s in map(seat_store.parse, seat_texts) if s is not None and s.section == code]
    guess = list(dict.fromkeys(guess)) if len(seat_texts) <= seats.MAX_GROUP_SEATS else []
    event, sec, record, prefound = (
        store.prefetch_seats(event_id, code, idem_key, guess) if code else (None, None, None, {})
    )
    now = utcnow()
    if record is not None and idempotency.live(record, now):
        return replay(record, idem)
    if event is None:
        raise NotFound("No such event.")
    if sec is None:
        raise seats.bad("seats", f"{seat_texts[0] if seat_texts else ''!r} is not a seat of this event")
    check_sale(event, sec, code, len(seat_texts), now, kind="reserved")
    wanted = seats.parse_all(sec, seat_texts)
    now_iso = iso(now)
    found = {s: prefound[s] for s in wanted if s in prefound}
    taken = {s: item for s, item in found.items() if not seat_store.expired(item, now_iso)}
    if taken:
        hold_ids = {item.hold_id if item.status == seat_store.HELD else None for item in taken.values()}
        if len(taken) == len(wanted) and len(hold_ids) == 1 and None not in hold_ids:
            # Every seat is held by one hold: the caller's own? (A sold one among them is SeatTaken.)
            from chalicelib.domain import holds

            own = holds.payable_by(caller, hold_ids.pop() or "")
            if own is not None:
                return holds.pay(caller, event_id, own.hold_id, seat_texts, idem)
        raise seat_taken([str(s) for s in wanted if s in taken])
    order = new_order(caller, event, sec, len(wanted), now, seats=[str(s) for s in wanted])
    seen = {s: found.get(s) for s in wanted}
    return checkout(caller, order, idem, now, store.take_seats(order, seen, now_iso), _seat_refused)


def seat_taken(seat_ids: list[str]) -> Conflict:
    return Conflict(f"Taken: {', '.join(seat_ids)}.", code="SeatTaken", seats=seat_ids)


def _seat_refused(e: ConditionFailed) -> Replay:
    lost = [tag.split(":", 1)[1] for tag in e.failed if tag.startswith("seat:")]
    if lost:
        raise seat_taken(lost)
    return _sold_out_or_conflict(e, "")


def checkout(
    caller: Caller,
    order: Order,
    idem: tuple[str, str] | None,
    now: Any,
    take: Callable[[Tx], None] | None,
    refused: Callable[[ConditionFailed], Replay],
) -> Replay:
    """Charge, then write the order with ``take`` in one transaction; void the charge if it fails.

    A lost race on the idempotency record replays the winner's answer; any other
    failed condition is handed to ``refused`` (which raises the right 409)."""
    payment = provider().charge(int(order.total_cents), order.currency, order.order_id)
    order.payment_ref = payment.reference
    body = view(order, caller.user)
    rec, token = first_answer(caller, idem, body, now, order.order_id)
    try:
        store.place(order, rec, token, now, take)
    except (ConditionFailed, TokenReused) as e:
        provider().refund(payment, f"void:{order.order_id}")
        if isinstance(e, TokenReused) or "idempotency" in e:
            return _replay_winner(caller, idem)
        return refused(e)
    except Exception:
        if _stands(order.order_id, payment, now):
            return Replay(201, body)
        raise
    return Replay(201, body)


def _stands(order_id: str, payment: Payment, now: Any) -> bool:
    """The purchase's outcome is unknown (the endpoint failed after every retry): make it known.
    Fencing the order's key either finds the order (it stands: answer 201) or makes sure it will
    never be written, not even by a transaction still in flight (then the payment is voided)."""
    try:
        fenced = store.fence(order_id, now)
    except Exception:
        log.exception("could not tell whether order %s was written; its payment stands", order_id)
        return False
    if fenced:
        provider().refund(payment, f"void:{order_id}")
    return not fenced


def check_sale(
    event: Event | None, sec: Section | None, code: str, quantity: int, now: Any, kind: str | None = "ga"
) -> None:
    """The event is on sale and has the section; ``kind`` (``ga``, ``reserved``, or None for
    either) is the kind of section this way of buying needs."""
    if event is None:
        raise NotFound("No such event.")
    if event.status == EVENT_CANCELLED:
        raise Conflict("The event is cancelled.", code="EventCancelled")
    if event.starts_at <= iso(now):
        raise Conflict("Sales are closed: the event has started.", code="SalesClosed")
    if sec is None:
        raise Invalid(f"The event has no section {code}.", details=[{"field": "section", "message": "unknown section"}])
    if kind == "reserved" and sec.kind != "reserved":
        raise Invalid(
            f"Section {code} is general admission: it has no seats to choose.",
            code="NoSeatMap",
            details=[{"field": "seats", "message": "general admission: buy by quantity"}],
        )
    if kind == "ga" and sec.kind != "ga":
        raise Invalid(
            f"Section {code} is reserved seating: choose seats.",
            code="SeatsRequired",
            details=[{"field": "section", "message": "reserved seating: choose seats"}],
        )
    if quantity > int(event.max_tickets_per_order):
        message = f"At most {int(event.max_tickets_per_order)} tickets per order."
        raise Invalid(message, code="TooManyTickets", details=[{"field": "quantity", "message": message}])


def _sold_out(code: str, remaining: int) -> SoldOut:
    return SoldOut(f"Not enough tickets left in section {code}.", section=code, remaining=remaining)


def new_order(
    caller: Caller,
    event: Event,
    sec: Section,
    quantity: int,
    now: Any,
    seats: list[str] | None = None,
    hold_id: str | None = None,
) -> Order:
    order_id = new_id()
    return Order(
        order_id=order_id,
        event_id=event.event_id,
        user_id=caller.id,
        organizer_id=event.organizer_id,
        status=CONFIRMED,
        section=sec.code,
        quantity=quantity,
        unit_price_cents=int(sec.price_cents),
        total_cents=int(sec.price_cents) * quantity,
        currency=sec.currency,
        ticket_ids=[store.ticket_id(order_id, n) for n in range(1, quantity + 1)],
        seats=seats or None,
        hold_id=hold_id,
        created_at=iso(now),
    )


def earlier_answer(caller: Caller, idem: tuple[str, str] | None) -> Replay | None:
    """The first answer to this Idempotency-Key, when there was one (409 for another body)."""
    record = idempotency.get(caller.id, idem[0], utcnow()) if idem else None
    return replay(record, idem) if record is not None else None


def first_answer(
    caller: Caller, idem: tuple[str, str] | None, body: Any, now: Any, attempt_id: str
) -> tuple[IdempotencyRecord | None, str | None]:
    """The idempotency record to write with this answer, and the transaction's token from it."""
    if not idem:
        return None, None
    ttl = now + timedelta(seconds=get_settings().idempotency_ttl_seconds)
    record = idempotency.record(caller.id, idem[0], idem[1], 201, body, ttl)
    return record, idempotency.client_token(caller.id, idem[0], attempt_id)


def replay(record: IdempotencyRecord, idem: tuple[str, str] | None) -> Replay:
    """The first answer to this Idempotency-Key, if the request is the same; 409 if not."""
    if idem is None or record.request_hash != idem[1]:
        raise Conflict("This Idempotency-Key was used with a different request.", code="IdempotencyKeyReused")
    return idempotency.as_replay(record)


def _replay_winner(caller: Caller, idem: tuple[str, str] | None) -> Replay:
    # A concurrent request with the same key won: answer as it did.
    earlier = earlier_answer(caller, idem)
    if earlier is None:
        raise Conflict("A request with this Idempotency-Key is in progress.", code="IdempotencyKeyInProgress")
    return earlier


def _sold_out_or_conflict(e: ConditionFailed, section: str, order: Order | None = None) -> Replay:
    if "event" in e:
        raise Conflict("The event is no longer on sale.", code="EventCancelled")
    if "section" in e:
        if e.old_string("section", "closed"):
            raise Conflict("The event is no longer on sale.", code="EventCancelled")
        if order is not None and order.shard_plan:  # what all the shards have left, not the one that refused
            event, sec, _ = store.prefetch(order.event_id, section, None)
            if event is None or event.status == EVENT_CANCELLED or (sec is not None and sec.closed):
                raise Conflict("The event is no longer on sale.", code="EventCancelled")
            raise _sold_out(section, int(sec.remaining) if sec else 0)
        raise _sold_out(section, e.old_number("section", "remaining") or 0)
    raise Conflict("The order could not be written; retry.")


def get(caller: Caller, order_id: str) -> Order:
    """The order, for its owner, the event's organizer (who may cancel it) or whoever may view
    everything; 404 for anyone else."""
    order = store.get(order_id)
    if caller.id not in (order.user_id, order.organizer_id) and not caller.can(Permission.VIEW_ALL):
        raise NotFound("No such order.")
    return order


def list_mine(caller: Caller, limit: int, cursor: str | None) -> Page[Order]:
    return store.list_for_user(caller.id, limit, cursor)


def cancel(caller: Caller, order_id: str) -> Order:
    """Cancel and refund: owner, the event's organizer, or can_edit_all; 409 twice or once started."""
    order = store.get(order_id)
    allowed = caller.id in (order.user_id, order.organizer_id) or caller.can(Permission.EDIT_ALL)
    if not allowed:
        if caller.can(Permission.VIEW_ALL):
            raise Forbidden("You may not cancel this order.")
        raise NotFound("No such order.")
    event = load_event(order.event_id)
    if order.status != CONFIRMED:
        raise Conflict("The order is already cancelled.", code="AlreadyCancelled")
    if event.starts_at <= iso(utcnow()) and event.status != EVENT_CANCELLED:
        raise Conflict("The event has started: the order can't be cancelled.", code="EventStarted")
    return _refund(order)


def _refund(order: Order) -> Order:
    now = iso(utcnow())
    try:
        store.cancel(order, now)
    except ConditionFailed as e:
        if "order" not in e:
            raise Conflict("The order's section or tickets are missing; nothing was changed.") from e
        if e.old_string("order", "cancelled_at") != now:
            raise Conflict("The order is already cancelled.", code="AlreadyCancelled") from e
        # Else it is our own cancellation, answered late and sent again past the token's window: done.
    # The money goes back from the billing consumer, when it sees the cancellation:
    # a failed provider call is then retried with the record, never lost.
    order.status, order.cancelled_at = "cancelled", now
    return order


def pay_back(order: Order, at: str) -> None:
    """Refund a cancelled order's payment, once (the provider's idempotency key is the order)."""
    if order.payment_ref and not order.refunded_at:
        provider().refund(
            Payment(order.payment_ref, int(order.total_cents), order.currency), f"refund:{order.order_id}"
        )
        store.mark_refunded(order, at)


def refund_if_event_cancelled(order: Order) -> bool:
    """Refund an order whose event is cancelled (one the cancelling sweep missed:
    the event's order index is eventually consistent). Called by the billing consumer."""
    if order.status != CONFIRMED or load_event(order.event_id).status != EVENT_CANCELLED:
        return False
    current = store.get(order.order_id)
    if current.status != CONFIRMED:
        return False
    try:
        _refund(current)
    except Conflict:
        return False  # refunded meanwhile
    return True


def refund_all(event_id: str) -> int:
    """Cancel and refund every confirmed order of an event (after the event is cancelled)."""
    count, cursor = 0, None
    while True:
        page = store.list_for_event(event_id, 100, cursor, status=CONFIRMED)
        for order in page.items:
            try:
                _refund(order)
                count += 1
            except Conflict:
                pass  # cancelled meanwhile by its owner
        if page.next_cursor is None:
            return count
        cursor = page.next_cursor
