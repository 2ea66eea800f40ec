"""Support tickets, their history, their list entries and their comments (issue 9).

A ticket (``SUPPORT#<id>`` / ``META``) shares its partition with its history, one entry per
change keyed by the version the change made (``HISTORY#<version>``). Every change is one
transaction: the ticket put on condition ``version == <the version read>``, the history entry,
and the ticket's list entries. Two staff editing at once are thus serialised by the version:
one commits, the other's condition fails, and it re-reads and applies its change on top (or,
when the client named a ``version``, answers 409 StaleVersion). History is in version order.

Lists are copies: a ticket has one entry in each list it belongs to (``listings``), keyed
``<priority rank>#<created_at>#<id>``, so any list (all, by status, by assignee, by creator,
each optionally by status) is one Query, most urgent then oldest first, narrowed by priority
with a key prefix. Nothing is read to be thrown away. The entries move in the same
transaction as the ticket, so a list never disagrees with the ticket.

Comments have their own partitions (edited and deleted by id). Every comment is in its
ticket's GSI2 list (staff), only public ones are in its GSI1 list (the creator's): internal
notes are never even read for someone who may not see them.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from pynamodb.attributes import BooleanAttribute, JSONAttribute, NumberAttribute, UnicodeAttribute

from chalicelib.domain.errors import NotFound, StaleVersion
from chalicelib.store import keys, table
from chalicelib.store.idempotency import IdempotencyRecord, absent_or_expired
from chalicelib.store.pagination import Page, decode_cursor, page
from chalicelib.store.table import Item
from chalicelib.store.tx import ConditionFailed, Tx

PRIORITIES = ("emergency", "high", "medium", "low")  # in rank order: the list order
STATUSES = ("open", "in_progress", "resolved", "closed")
UNASSIGNED = "none"


def rank(priority: str) -> int:
    return PRIORITIES.index(priority)


class SupportTicket(Item, discriminator="support_ticket"):
    ticket_id = UnicodeAttribute()
    creator_id = UnicodeAttribute()
    title = UnicodeAttribute()
    description = UnicodeAttribute()
    priority = UnicodeAttribute()
    status = UnicodeAttribute()
    assignee_id = UnicodeAttribute(null=True)
    event_id = UnicodeAttribute(null=True)
    order_id = UnicodeAttribute(null=True)
    version = NumberAttribute(default=1)
    created_at = UnicodeAttribute()
    updated_at = UnicodeAttribute()
    resolved_at = UnicodeAttribute(null=True)
    closed_at = UnicodeAttribute(null=True)

    def set_keys(self) -> SupportTicket:
        self.pk, self.sk = keys.support_ticket(self.ticket_id)
        return self

    def listings(self) -> list[str]:
        """Every list this ticket is in, as it is now."""
        assignee = f"assignee={self.assignee_id or UNASSIGNED}"
        creator = f"creator={self.creator_id}"
        status = f"status={self.status}"
        return ["all", status, assignee, f"{assignee}&{status}", creator, f"{creator}&{status}"]


# What a list shows of a ticket (the description and timestamps of state changes stay on the ticket).
SUMMARY = [
    "ticket_id",
    "creator_id",
    "title",
    "priority",
    "status",
    "assignee_id",
    "event_id",
    "order_id",
    "version",
    "created_at",
    "updated_at",
]


class TicketListing(Item, discriminator="support_listing"):
    """A ticket's entry in one list: a copy of its summary."""

    ticket_id = UnicodeAttribute()
    creator_id = UnicodeAttribute()
    title = UnicodeAttribute()
    priority = UnicodeAttribute()
    status = UnicodeAttribute()
    assignee_id = UnicodeAttribute(null=True)
    event_id = UnicodeAttribute(null=True)
    order_id = UnicodeAttribute(null=True)
    version = NumberAttribute()
    created_at = UnicodeAttribute()
    updated_at = UnicodeAttribute()


class TicketChange(Item, discriminator="support_history"):
    """One change of a ticket: who, when, each field from → to. Never an internal note.

    It names the ticket's creator and its assignees before and after, so the activity
    consumer tells them without reading the ticket."""

    ticket_id = UnicodeAttribute()
    version = NumberAttribute()
    actor_id = UnicodeAttribute()
    at = UnicodeAttribute()
    changes = JSONAttribute()  # [{"field", "from", "to"}]; the first entry is [{"field": "created"...}]
    title = UnicodeAttribute()
    creator_id = UnicodeAttribute()
    assignee_id = UnicodeAttribute(null=True)
    previous_assignee_id = UnicodeAttribute(null=True)

    def set_keys(self) -> TicketChange:
        self.pk, self.sk = keys.support_history(self.ticket_id, int(self.version))
        return self


class SupportComment(Item, discriminator="support_comment"):
    comment_id = UnicodeAttribute()
    ticket_id = UnicodeAttribute()
    author_id = UnicodeAttribute()
    body = UnicodeAttribute()
    internal = BooleanAttribute(default=False)
    version = NumberAttribute(default=1)
    created_at = UnicodeAttribute()
    updated_at = UnicodeAttribute()

    def set_keys(self) -> SupportComment:
        self.pk, self.sk = keys.support_comment(self.comment_id)
        sort = keys.created_sort(self.created_at, self.comment_id)
        self.gsi2pk, self.gsi2sk = keys.support_comments(self.ticket_id), sort
        public = not self.internal
        self.gsi1pk = keys.support_public_comments(self.ticket_id) if public else None
        self.gsi1sk = sort if public else None
        return self


# --- tickets ----------------------------------------------------------------------------------


def find(ticket_id: str) -> SupportTicket | None:
    return table.find(SupportTicket, keys.support_ticket(ticket_id))


def _entries(ticket: SupportTicket) -> list[TicketListing]:
    sort = keys.support_listing_sort(rank(ticket.priority), ticket.created_at, ticket.ticket_id)
    summary = {name: getattr(ticket, name) for name in SUMMARY}
    return [TicketListing(keys.support_listing(name), sort, **summary) for name in ticket.listings()]


def create(
    ticket: SupportTicket, first: TicketChange, record: IdempotencyRecord | None, now: datetime, token: str | None
) -> None:
    """The ticket, its first history entry and its list entries (and an Idempotency-Key's record)."""
    tx = Tx()
    # A fresh id: if its put fails, an earlier attempt of this very transaction committed.
    tx.put("ticket", ticket.set_keys(), SupportTicket.pk.does_not_exist(), fresh=True)
    tx.put("history", first.set_keys())
    for n, entry in enumerate(_entries(ticket)):
        tx.put(f"listing:{n}", entry)
    if record is not None:
        tx.put("idempotency", record, absent_or_expired(now))
    tx.commit(token=token or ticket.ticket_id)


def save_change(old: SupportTicket, new: SupportTicket, change: TicketChange) -> None:
    """Replace ``old`` by ``new`` if nobody changed it since it was read, with the history entry
    and the moved list entries. StaleVersion if the ticket changed (or NotFound: it is gone)."""
    tx = Tx()
    tx.put("ticket", new.set_keys(), SupportTicket.version == int(old.version))
    tx.put("history", change.set_keys(), TicketChange.pk.does_not_exist())
    moved = _moved(old, new)
    for n, entry in enumerate(moved):
        tx.delete(f"gone:{n}", entry)
    for n, entry in enumerate(_entries(new)):
        tx.put(f"listing:{n}", entry)
    try:
        tx.commit()
    except ConditionFailed as e:
        raise _refused(old.ticket_id) from e


def _moved(old: SupportTicket, new: SupportTicket) -> list[TicketListing]:
    """``old``'s entries whose key ``new`` does not reuse (a new status, assignee or priority)."""
    kept = {(e.pk, e.sk) for e in _entries(new)}
    return [e for e in _entries(old) if (e.pk, e.sk) not in kept]


def _refused(ticket_id: str) -> Exception:
    if find(ticket_id) is None:
        return NotFound("No such ticket.")
    return StaleVersion("The ticket changed meanwhile; read it again and retry.")


def delete(ticket: SupportTicket) -> None:
    """The ticket and its list entries (its history and comments go in a clean-up job)."""
    tx = Tx()
    tx.delete("ticket", ticket, SupportTicket.version == int(ticket.version))
    for n, entry in enumerate(_entries(ticket)):
        tx.delete(f"listing:{n}", entry)
    try:
        tx.commit()
    except ConditionFailed as e:
        raise _refused(ticket.ticket_id) from e


def listing_page(listing: str, priority: str | None, limit: int, cursor: str | None) -> Page[TicketListing]:
    scope = f"{keys.support_listing(listing)}|{priority or ''}"
    condition = Item.sk.startswith(keys.support_rank_prefix(rank(priority))) if priority else None
    results = Item.query(
        keys.support_listing(listing), condition, limit=limit, last_evaluated_key=decode_cursor(cursor, scope)
    )
    return page(results, limit, TicketListing, scope)


def history_page(ticket_id: str, limit: int, cursor: str | None) -> Page[TicketChange]:
    """A ticket's changes in the order they landed."""
    scope = f"{keys.support_partition(ticket_id)}|history"
    results = Item.query(
        keys.support_partition(ticket_id),
        Item.sk.startswith(keys.HISTORY_PREFIX),
        consistent_read=True,
        limit=limit,
        last_evaluated_key=decode_cursor(cursor, scope),
    )
    return page(results, limit, TicketChange, scope)


# --- comments -------------------------------------------------------------------------------------


def find_comment(comment_id: str) -> SupportComment | None:
    return table.find(SupportComment, keys.support_comment(comment_id))


def add_comment(comment: SupportComment, record: IdempotencyRecord | None, now: datetime, token: str | None) -> None:
    """The comment, if its ticket still exists (NotFound otherwise), with an Idempotency-Key's record.
    Raises ConditionFailed tagged ``idempotency`` when a request with that key got there first."""
    tx = Tx()
    tx.check("ticket", SupportTicket, keys.support_ticket(comment.ticket_id), SupportTicket.pk.exists())
    tx.put("comment", comment.set_keys(), SupportComment.pk.does_not_exist(), fresh=True)
    if record is not None:
        tx.put("idempotency", record, absent_or_expired(now))
    try:
        tx.commit(token=token or comment.comment_id)
    except ConditionFailed as e:
        if "ticket" in e:
            raise NotFound("No such ticket.") from e
        raise


def edit_comment(comment: SupportComment, changes: dict[str, Any], version: int | None, now_iso: str) -> None:
    """Set ``changes`` (body, internal) and bump the version; StaleVersion / NotFound when refused."""
    actions: list[Any] = [SupportComment.version.add(1), SupportComment.updated_at.set(now_iso)]
    actions += [getattr(SupportComment, name).set(value) for name, value in changes.items()]
    if "internal" in changes:  # the public list (GSI1) holds public comments only
        moved = SupportComment(**{**comment.attribute_values, **changes}).set_keys()
        for name in ("gsi1pk", "gsi1sk"):
            value = getattr(moved, name)
            attribute = getattr(SupportComment, name)
            actions.append(attribute.set(value) if value is not None else attribute.remove())
    if not table.update_if(comment, actions, table.at_version(SupportComment, version)):
        raise _comment_refused(comment.comment_id, version)


def _comment_refused(comment_id: str, version: int | None) -> Exception:
    if version is not None and find_comment(comment_id) is not None:
        return StaleVersion("The comment changed meanwhile; read it again and retry.")
    return NotFound("No such comment.")


def delete_comment(comment: SupportComment, version: int | None) -> None:
    tx = Tx()
    tx.delete("comment", comment, table.at_version(SupportComment, version))
    try:
        tx.commit()
    except ConditionFailed as e:
        raise _comment_refused(comment.comment_id, version) from e


def comments_page(ticket_id: str, internal_too: bool, limit: int, cursor: str | None) -> Page[SupportComment]:
    """A ticket's comments, oldest first: every one (GSI2) or the public ones only (GSI1)."""
    if internal_too:
        scope = keys.support_comments(ticket_id)
        results = Item.gsi2.query(scope, limit=limit, last_evaluated_key=decode_cursor(cursor, scope))
    else:
        scope = keys.support_public_comments(ticket_id)
        results = Item.gsi1.query(scope, limit=limit, last_evaluated_key=decode_cursor(cursor, scope))
    return page(results, limit, SupportComment, scope)


def leftovers_page(ticket_id: str, phase: str, limit: int, cursor: str | None) -> Page[Item]:
    """What a deleted ticket leaves (its history, then its comments), a page at a time."""
    if phase == "history":
        return history_page(ticket_id, limit, cursor)  # type: ignore[return-value]
    found = comments_page(ticket_id, True, limit, cursor)
    return Page(list(found.items), found.next_cursor)
