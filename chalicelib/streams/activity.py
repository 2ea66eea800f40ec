"""The activity consumer: notifications (in-app and email) for buyers, organizers
and ticket holders. Later projections (search index, conversations, audit
history) join this consumer: DynamoDB Streams allows two readers per shard."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from chalicelib.domain import event_notices, fanout, friends, messages, places, posts, search, support, waitlist
from chalicelib.domain.errors import NotFound
from chalicelib.domain.ids import iso
from chalicelib.domain.notifications import notify
from chalicelib.store import events as event_store
from chalicelib.store import holds as hold_store
from chalicelib.store.events import CANCELLED as EVENT_CANCELLED
from chalicelib.store.events import Event
from chalicelib.store.holds import HoldAssignment
from chalicelib.store.orders import CANCELLED, CONFIRMED, Order
from chalicelib.streams.processor import Reaction, Reactions, process, status_changed
from chalicelib.streams.records import Change

WATCHED = ("title", "starts_at", "ends_at", "venue")


def _money(cents: int, currency: str) -> str:
    return f"{currency} {cents / 100:,.2f}"


def _title(event_id: str) -> str:
    try:
        return event_store.load_event(event_id).title
    except NotFound:
        return "your event"


def order_confirmed(change: Change) -> None:
    order = change.new
    if not isinstance(order, Order) or order.status != CONFIRMED:
        return
    title = _title(order.event_id)
    data = {"order_id": order.order_id, "event_id": order.event_id}
    total = _money(int(order.total_cents), order.currency)
    notify(
        change,
        order.user_id,
        "order_confirmed",
        f"Your tickets for {title}",
        f"Order {order.order_id}: {int(order.quantity)} x section {order.section}, {total}.",
        data,
    )
    if order.organizer_id != order.user_id:
        notify(
            change,
            order.organizer_id,
            "ticket_sold",
            f"New order for {title}",
            f"{int(order.quantity)} x section {order.section} sold, {total}.",
            data,
        )


def order_cancelled(change: Change) -> None:
    order = change.new
    if not isinstance(order, Order) or not status_changed(change, CANCELLED):
        return
    title = _title(order.event_id)
    notify(
        change,
        order.user_id,
        "order_cancelled",
        f"Order cancelled: {title}",
        f"Order {order.order_id} is cancelled and {_money(int(order.total_cents), order.currency)} refunded.",
        {"order_id": order.order_id, "event_id": order.event_id},
    )


def event_changed(change: Change) -> None:
    """Holders and followers hear of a change or a cancellation, in bounded fan-out steps."""
    old, new = change.old, change.new
    if not isinstance(old, Event) or not isinstance(new, Event):
        return
    data: dict[str, Any] = {"event_id": new.event_id}
    if status_changed(change, EVENT_CANCELLED):
        since = iso(change.at - timedelta(seconds=1))
        body = f"{new.title} on {new.starts_at} is cancelled; any orders you had are refunded."
        event_notices.start(change, "event_cancelled", f"Cancelled: {new.title}", body, data, since)
        return
    changed = [f for f in WATCHED if getattr(old, f) != getattr(new, f)]
    if not changed or new.status == EVENT_CANCELLED:
        return
    body = f"{new.title} has a new {', '.join(changed).replace('_', ' ')}: starts {new.starts_at}."
    event_notices.start(change, "event_changed", f"Changed: {new.title}", body, {**data, "changed": changed}, None)


def seat_assigned(change: Change) -> None:
    assignment = change.new
    if not isinstance(assignment, HoldAssignment):
        return
    if isinstance(change.old, HoldAssignment) and change.old.user_id == assignment.user_id:
        return
    try:
        hold = hold_store.get(assignment.hold_id)
    except NotFound:
        return
    title = _title(hold.event_id)
    notify(
        change,
        assignment.user_id,
        "seat_assigned",
        f"A seat for you: {title}",
        f"Seat {assignment.seat_id} is kept for you until {hold.expires_at}: pay for it with hold {hold.hold_id}.",
        {"event_id": hold.event_id, "hold_id": hold.hold_id, "seat": assignment.seat_id, "expires_at": hold.expires_at},
    )


BASE: Reactions = {
    ("order", "INSERT"): [order_confirmed],
    ("order", "MODIFY"): [order_cancelled],
    ("event", "MODIFY"): [event_changed],
    ("hold_assignment", "INSERT"): [seat_assigned],
    ("hold_assignment", "MODIFY"): [seat_assigned],
    # Capacity came back to a section (a cancellation, a released or expired hold): the waiting list.
    ("section", "MODIFY"): [waitlist.offer_returned_capacity],
    ("section_shard", "MODIFY"): [waitlist.offer_returned_capacity],
    ("hold", "MODIFY"): [waitlist.offer_ended],
}


def merge(*tables: Reactions) -> Reactions:
    merged: dict[tuple[str, str], list[Reaction]] = {}
    for table in tables:
        for key, reactions in table.items():
            merged.setdefault(key, []).extend(reactions)
    return merged


REACTIONS = merge(
    BASE,
    fanout.REACTIONS,
    friends.REACTIONS,
    posts.REACTIONS,
    messages.REACTIONS,
    search.REACTIONS,
    places.REACTIONS,
    support.REACTIONS,
)


def handle(event: dict[str, Any]) -> dict[str, Any]:
    return process(event, REACTIONS, "activity")
