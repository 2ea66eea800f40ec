"""Tickets as the door sees them: signing keys, one ticket, check-in, the attendee list.

The ticket items themselves are written with their order (store/orders.py);
this module reads them and changes only their check-in state. An event's
signing keys live in their own partition, ``TICKETKEY#<event>``, so reading
them never reads the event's capacity items and vice versa.
"""

from __future__ import annotations

from collections.abc import Iterable

from pynamodb.attributes import UnicodeAttribute
from pynamodb.exceptions import PutError, UpdateError

from chalicelib.store import keys
from chalicelib.store.orders import CHECKED_IN, VALID, Order, Ticket
from chalicelib.store.pagination import Page, decode_cursor, page
from chalicelib.store.table import Item, find
from chalicelib.store.users import User

CONDITION_FAILED = "ConditionalCheckFailedException"
# Written with a check-in: the id of the request that checked the ticket in. botocore sends an
# UpdateItem again when its answer was lost; the resend must pass its own condition, not read as
# "already checked in" (the same trick as the sign-in counter's ``last_attempt``).


class TicketKey(Item, discriminator="ticket_key"):
    """One Ed25519 key pair that signs an event's ticket codes.

    ``private_key`` is read by the signer only: no view is ever built from it.
    Both halves are the raw 32 bytes, base64url without padding (JWK ``d`` and ``x``).
    """

    event_id = UnicodeAttribute()
    kid = UnicodeAttribute()
    private_key = UnicodeAttribute()
    public_key = UnicodeAttribute()
    created_at = UnicodeAttribute()

    def set_keys(self) -> TicketKey:
        self.pk, self.sk = keys.ticket_key(self.event_id, self.kid)
        return self


def get_key(event_id: str, kid: str, consistent: bool = False) -> TicketKey | None:
    return find(TicketKey, keys.ticket_key(event_id, kid), consistent)


def create_key(key: TicketKey) -> TicketKey:
    """Store a new key pair unless that key id already has one; return the one that is stored.

    The key id is derived from the event, so concurrent creators race for the same item:
    the first put wins and the others read the winner back (consistently), so every code of
    the event is signed by one key. A put whose answer was lost and was resent reads back its own.
    """
    try:
        key.set_keys().save(condition=TicketKey.pk.does_not_exist())
    except PutError as e:
        if e.cause_response_code != CONDITION_FAILED:
            raise
        winner = get_key(key.event_id, key.kid, consistent=True)
        if winner is None:  # cannot happen: the condition failed on an item that is there
            raise
        return winner
    return key


def event_keys(event_id: str) -> list[TicketKey]:
    """Every key pair of the event (one today; a rotation would add more): one Query."""
    return [k for k in Item.query(keys.ticket_keys(event_id)) if isinstance(k, TicketKey)]


def get_with_order(order_id: str, n: int) -> tuple[Ticket | None, Order | None]:
    """A ticket and its order (owner, organizer): both live in the order's partition, one BatchGetItem."""
    ticket = order = None
    for item in Item.batch_get([keys.ticket(order_id, n), keys.order(order_id)], consistent_read=True):
        if isinstance(item, Ticket):
            ticket = item
        elif isinstance(item, Order):
            order = item
    return ticket, order


def get_ticket(order_id: str, n: int) -> Ticket | None:
    return find(Ticket, keys.ticket(order_id, n))


def check_in(order_id: str, n: int, event_id: str, at: str, request_id: str) -> Ticket | None:
    """Check a valid ticket of ``event_id`` in: one conditional update, so it succeeds once.

    Returns the checked-in ticket, or None when the condition failed (no such ticket, another
    event's, already checked in, or cancelled): the caller reads the ticket to tell which.
    """
    pk, sk = keys.ticket(order_id, n)
    ticket = Ticket(pk, sk)
    marker = Ticket.check_in_id
    first_time = Ticket.checked_in_at.does_not_exist() & (Ticket.status == VALID) & (Ticket.event_id == event_id)
    try:
        ticket.update(
            actions=[Ticket.status.set(CHECKED_IN), Ticket.checked_in_at.set(at), marker.set(request_id)],
            condition=first_time | (marker == request_id),
        )
    except UpdateError as e:
        if e.cause_response_code == CONDITION_FAILED:
            return None
        raise
    return ticket


def tickets_of_event(event_id: str, limit: int, cursor: str | None) -> Page[Ticket]:
    """One page of an event's tickets, by ticket id: one Query of GSI2 (eventually consistent)."""
    scope = keys.tickets_by_event(event_id)
    start = decode_cursor(cursor, scope)
    results = Item.gsi2.query(scope, limit=limit, last_evaluated_key=start)
    return page(results, limit, Ticket, scope)


def users(user_ids: Iterable[str]) -> dict[str, User]:
    """The users that still exist among ``user_ids``: one BatchGetItem (≤ 100 ids)."""
    wanted = sorted(set(user_ids))
    if not wanted:
        return {}
    return {u.user_id: u for u in Item.batch_get([keys.user(uid) for uid in wanted]) if isinstance(u, User)}
