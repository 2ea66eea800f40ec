"""The support desk (issue 9): tickets, their state machine, history, comments and internal notes.

Who may do what is decided here, in one place, from the role's named permissions
(``auth/permissions.py``), and denied unless a rule below allows it:

- read a ticket, its history and comments: its creator, its assignee, and staff (``can_view_all``,
  ``can_view_all_support_tickets`` or ``can_manage_tickets``); anyone else gets 404;
- internal notes: staff only, through every route (the creator's comment list is a different index);
- change a field: ``FIELD_RULES``; a field the caller may not change is 403 naming it;
- status moves: ``STAFF_MOVES`` for ``can_manage_tickets``, ``CREATOR_MOVES`` for the creator
  (close their own ticket; reopen one resolved less than ``SUPPORT_REOPEN_DAYS`` ago).

Concurrent edits never lose an update: each edit re-reads the ticket and commits on its version
(store/support.py). Without a ``version`` in the body an edit that lost the race is re-applied on
top of the winner (per-field: only the fields it names), re-checked against the new state;
with a ``version`` it is answered 409 StaleVersion instead. Either way history has every change
that landed, in the order it landed.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import timedelta
from typing import Any

from chalicelib.auth.permissions import Permission, has
from chalicelib.domain import fanout, orders
from chalicelib.domain import users as user_domain
from chalicelib.domain.auth import Caller
from chalicelib.domain.errors import Busy, Conflict, Forbidden, Invalid, NotFound, StaleVersion
from chalicelib.domain.fanout import Next
from chalicelib.domain.friends import users_by_id
from chalicelib.domain.ids import iso, new_id, parse_iso, utcnow
from chalicelib.domain.notifications import notify
from chalicelib.settings import get_settings
from chalicelib.store import events as event_store
from chalicelib.store import support as store
from chalicelib.store.fanout import FanoutStep
from chalicelib.store.idempotency import Replay
from chalicelib.store.pagination import Page
from chalicelib.store.support import STATUSES, SupportComment, SupportTicket, TicketChange, TicketListing
from chalicelib.store.table import write_batch
from chalicelib.store.tx import ConditionFailed, backoff
from chalicelib.streams.processor import Reactions
from chalicelib.streams.records import Change

OPEN, IN_PROGRESS, RESOLVED, CLOSED = STATUSES
EDITABLE = ("title", "description", "status", "priority", "assignee_id")
EDIT_ATTEMPTS = 8
STAFF_VIEW = (Permission.VIEW_ALL, Permission.VIEW_ALL_SUPPORT, Permission.MANAGE_TICKETS)

# The state machine. Staff move a ticket anywhere that means something; a closed ticket is only
# reopened (to open or straight back to in_progress), never "resolved" after the fact.
STAFF_MOVES: dict[str, tuple[str, ...]] = {
    OPEN: (IN_PROGRESS, RESOLVED, CLOSED),
    IN_PROGRESS: (OPEN, RESOLVED, CLOSED),
    RESOLVED: (OPEN, IN_PROGRESS, CLOSED),
    CLOSED: (OPEN, IN_PROGRESS),
}
# The creator closes their own ticket, or reopens one staff resolved (within the reopen window).
CREATOR_MOVES: dict[str, tuple[str, ...]] = {
    OPEN: (CLOSED,),
    IN_PROGRESS: (CLOSED,),
    RESOLVED: (OPEN, CLOSED),
    CLOSED: (),
}
CREATOR_TARGETS = {OPEN, CLOSED}


def is_staff(caller: Caller) -> bool:
    return any(caller.can(p) for p in STAFF_VIEW)


def may_read(caller: Caller, ticket: SupportTicket) -> bool:
    return caller.id in (ticket.creator_id, ticket.assignee_id) or is_staff(caller)


def sees_internal(caller: Caller) -> bool:
    """Internal notes are for staff only: not for a creator, whatever route they take."""
    return is_staff(caller)


def _creator_or(permission: Permission) -> Callable[[Caller, SupportTicket], bool]:
    return lambda caller, ticket: caller.id == ticket.creator_id or caller.can(permission)


def _has(permission: Permission) -> Callable[[Caller, SupportTicket], bool]:
    return lambda caller, _ticket: caller.can(permission)


# Who may change each field; a field not named here changes for nobody (deny by default).
FIELD_RULES: dict[str, Callable[[Caller, SupportTicket], bool]] = {
    "title": _creator_or(Permission.EDIT_ALL),
    "description": _creator_or(Permission.EDIT_ALL),
    "status": _creator_or(Permission.MANAGE_TICKETS),  # which moves: STAFF_MOVES / CREATOR_MOVES
    "priority": _has(Permission.MANAGE_TICKETS),
    "assignee_id": _has(Permission.ASSIGN_TICKETS),
}


# --- views ---------------------------------------------------------------------------------------


def view(ticket: SupportTicket) -> dict[str, Any]:
    found = users_by_id([u for u in (ticket.creator_id, ticket.assignee_id) if u])
    assignee = ticket.assignee_id
    return {
        **summary(ticket),
        "description": ticket.description,
        "resolved_at": ticket.resolved_at,
        "closed_at": ticket.closed_at,
        "creator": user_domain.ref(ticket.creator_id, found.get(ticket.creator_id)),
        "assignee": user_domain.ref(assignee, found.get(assignee)) if assignee else None,
    }


def summary(ticket: SupportTicket | TicketListing) -> dict[str, Any]:
    return {
        "id": ticket.ticket_id,
        "title": ticket.title,
        "priority": ticket.priority,
        "status": ticket.status,
        "creator_id": ticket.creator_id,
        "assignee_id": ticket.assignee_id,
        "event_id": ticket.event_id,
        "order_id": ticket.order_id,
        "version": int(ticket.version),
        "created_at": ticket.created_at,
        "updated_at": ticket.updated_at,
    }


def change_view(change: TicketChange, found: dict[str, Any]) -> dict[str, Any]:
    return {
        "version": int(change.version),
        "at": change.at,
        "actor": user_domain.ref(change.actor_id, found.get(change.actor_id)),
        "changes": change.changes,
    }


def comment_view(comment: SupportComment) -> dict[str, Any]:
    return {
        "id": comment.comment_id,
        "ticket_id": comment.ticket_id,
        "author_id": comment.author_id,
        "body": comment.body,
        "internal": comment.internal,
        "version": int(comment.version),
        "created_at": comment.created_at,
        "updated_at": comment.updated_at,
    }


# --- tickets ------------------------------------------------------------------------------------


def open_ticket(
    caller: Caller,
    fields: dict[str, Any],
    event_id: str | None,
    order_id: str | None,
    idem: tuple[str, str] | None,
) -> Replay:
    """A new ticket, status ``open``, optionally about one of the caller's orders or events."""
    earlier = orders.earlier_answer(caller, idem)
    if earlier is not None:
        return earlier
    event_id = _linkable(caller, event_id, order_id)
    now = utcnow()
    ticket = SupportTicket(
        ticket_id=new_id(),
        creator_id=caller.id,
        title=fields["title"],
        description=fields["description"],
        priority=fields["priority"],
        status=OPEN,
        event_id=event_id,
        order_id=order_id,
        version=1,
        created_at=iso(now),
        updated_at=iso(now),
    )
    first = _change(ticket, None, caller, [{"field": "created", "from": None, "to": OPEN}], iso(now))
    answer = view(ticket)
    record, token = orders.first_answer(caller, idem, answer, now, ticket.ticket_id)
    try:
        store.create(ticket, first, record, now, token)
    except ConditionFailed as e:
        return _replay_winner(caller, idem, e)
    return Replay(201, answer)


def _replay_winner(caller: Caller, idem: tuple[str, str] | None, e: ConditionFailed) -> Replay:
    if "idempotency" not in e:
        raise e
    earlier = orders.earlier_answer(caller, idem)
    if earlier is None:
        raise Conflict("A request with this Idempotency-Key is in progress.", code="IdempotencyKeyInProgress")
    return earlier


def _linkable(caller: Caller, event_id: str | None, order_id: str | None) -> str | None:
    """The event the ticket is about: one the caller organizes, or the event of the caller's order.
    Someone else's event or order is 404, as it is everywhere else."""
    if order_id is not None:
        order = orders.get(caller, order_id)  # 404 unless the caller's (or can_view_all)
        if event_id is not None and event_id != order.event_id:
            why = "The order is for another event."
            raise Invalid(why, details=[{"field": "event_id", "message": why}])
        return order.event_id
    if event_id is not None:
        event = event_store.load_event(event_id)
        if event.organizer_id != caller.id and not caller.can(Permission.VIEW_ALL):
            raise NotFound("No such event.")
    return event_id


def readable(caller: Caller, ticket_id: str) -> SupportTicket:
    ticket = store.find(ticket_id)
    if ticket is None or not may_read(caller, ticket):
        raise NotFound("No such ticket.")
    return ticket


def edit(caller: Caller, ticket_id: str, fields: dict[str, Any], version: int | None) -> SupportTicket:
    """Change the given fields (PATCH: those sent; PUT: every editable one). A field sent with
    the value it has is no change: no 403, no history. Retries lost races (see the module doc)."""
    for attempt in range(EDIT_ATTEMPTS):
        ticket = readable(caller, ticket_id)
        if version is not None and int(ticket.version) != version:
            raise StaleVersion("The ticket changed meanwhile; read it again and retry.", version=int(ticket.version))
        changes = [
            {"field": name, "from": getattr(ticket, name), "to": value}
            for name, value in fields.items()
            if getattr(ticket, name) != value
        ]
        if not changes:
            return ticket
        _authorize(caller, ticket, changes)
        if "assignee_id" in fields and any(c["field"] == "assignee_id" for c in changes):
            check_assignee(fields["assignee_id"])
        new, record = _applied(caller, ticket, changes)
        try:
            store.save_change(ticket, new, record)
            return new
        except StaleVersion:
            if version is not None:
                raise
            backoff(attempt)
    raise Busy("The ticket is busy; please retry.", retry_after=1)


def _authorize(caller: Caller, ticket: SupportTicket, changes: list[dict[str, Any]]) -> None:
    for change in changes:
        name = change["field"]
        rule = FIELD_RULES.get(name)
        if rule is None or not rule(caller, ticket):
            raise Forbidden(f"You may not change {name} of this ticket.", field=name)
    wanted = {c["field"]: c["to"] for c in changes}
    if "status" in wanted:
        _check_move(caller, ticket, wanted["status"])
    if ticket.status == CLOSED and wanted.get("status", CLOSED) == CLOSED:
        raise Conflict("The ticket is closed: reopen it first.", code="TicketClosed")


def _check_move(caller: Caller, ticket: SupportTicket, to: str) -> None:
    staff = caller.can(Permission.MANAGE_TICKETS)
    if not staff and to not in CREATOR_TARGETS:
        raise Forbidden(f"Only support staff may set a ticket {to}.", field="status")
    allowed = STAFF_MOVES[ticket.status] if staff else CREATOR_MOVES[ticket.status]
    if to not in allowed:
        raise Conflict(
            f"A {ticket.status} ticket cannot become {to}.",
            code="InvalidTransition",
            details=[{"field": "status", "message": f"from {ticket.status}: one of {', '.join(allowed) or 'none'}"}],
        )
    if not staff and ticket.status == RESOLVED and to == OPEN and ticket.resolved_at is not None:
        days = get_settings().support_reopen_days
        if utcnow() - parse_iso(ticket.resolved_at) > timedelta(days=days):
            raise Conflict(
                f"The ticket was resolved more than {days} days ago: open a new one.",
                code="ReopenWindowPassed",
            )


def _applied(
    caller: Caller, ticket: SupportTicket, changes: list[dict[str, Any]]
) -> tuple[SupportTicket, TicketChange]:
    now = iso(utcnow())
    new = SupportTicket(**ticket.attribute_values)
    for change in changes:
        setattr(new, change["field"], change["to"])
    status = next((c["to"] for c in changes if c["field"] == "status"), None)
    if status == RESOLVED:
        new.resolved_at = now
    if status == CLOSED:
        new.closed_at = now
    if status in (OPEN, IN_PROGRESS):
        new.resolved_at, new.closed_at = None, None
    new.version = int(ticket.version) + 1
    new.updated_at = now
    return new, _change(new, ticket, caller, changes, now)


def _change(
    ticket: SupportTicket, old: SupportTicket | None, caller: Caller, changes: list[dict[str, Any]], at: str
) -> TicketChange:
    return TicketChange(
        ticket_id=ticket.ticket_id,
        version=int(ticket.version),
        actor_id=caller.id,
        at=at,
        changes=changes,
        title=ticket.title,
        creator_id=ticket.creator_id,
        assignee_id=ticket.assignee_id,
        previous_assignee_id=old.assignee_id if old is not None else None,
    )


def check_assignee(assignee_id: str | None) -> None:
    """Tickets go to someone who works tickets (``can_manage_tickets``), or to nobody."""
    if assignee_id is None:
        return
    found = users_by_id([assignee_id]).get(assignee_id)
    if found is None or not has(found.role, Permission.MANAGE_TICKETS):
        why = "not a member of the support staff"
        raise Invalid(f"The assignee is {why}.", code="NotStaff", details=[{"field": "assignee_id", "message": why}])


def delete(caller: Caller, ticket_id: str) -> None:
    for attempt in range(EDIT_ATTEMPTS):
        ticket = readable(caller, ticket_id)
        if caller.id != ticket.creator_id and not caller.can(Permission.DELETE_ALL):
            raise Forbidden("Only the ticket's creator may delete it.")
        try:
            store.delete(ticket)
            return
        except StaleVersion:
            backoff(attempt)
    raise Busy("The ticket is busy; please retry.", retry_after=1)


def history(caller: Caller, ticket_id: str, limit: int, cursor: str | None) -> tuple[list[Any], str | None]:
    readable(caller, ticket_id)
    found = store.history_page(ticket_id, limit, cursor)
    actors = users_by_id([c.actor_id for c in found.items])
    return [change_view(c, actors) for c in found.items], found.next_cursor


def listing_for(caller: Caller, filters: dict[str, str | None]) -> str:
    """Which list a caller's query reads. Someone who is not staff reads their own tickets only."""
    status, assignee, creator = filters.get("status"), filters.get("assignee"), filters.get("creator")
    if assignee == "me":
        assignee = caller.id
    if creator == "me":
        creator = caller.id
    if not is_staff(caller):
        if assignee is not None:
            raise Forbidden("Only support staff may list tickets by assignee.", field="assignee")
        if creator not in (None, caller.id):
            raise Forbidden("You may only list your own tickets.", field="creator")
        creator = caller.id
    if assignee is not None and creator is not None:
        why = "give assignee or creator, not both"
        raise Invalid(f"Filter by {why}.", details=[{"field": "assignee", "message": why}])
    base = f"assignee={assignee}" if assignee else f"creator={creator}" if creator else None
    if base and status:
        return f"{base}&status={status}"
    return base or (f"status={status}" if status else "all")


def tickets(caller: Caller, filters: dict[str, str | None], limit: int, cursor: str | None) -> Page[TicketListing]:
    return store.listing_page(listing_for(caller, filters), filters.get("priority"), limit, cursor)


# --- comments ------------------------------------------------------------------------------------


def add_comment(caller: Caller, ticket_id: str, body: str, internal: bool, idem: tuple[str, str] | None) -> Replay:
    earlier = orders.earlier_answer(caller, idem)
    if earlier is not None:
        return earlier
    ticket = readable(caller, ticket_id)
    if internal and not caller.can(Permission.MANAGE_TICKETS):
        raise Forbidden("Only support staff may write internal notes.", field="internal")
    if ticket.status == CLOSED and not is_staff(caller):
        raise Conflict("The ticket is closed.", code="TicketClosed")
    now = utcnow()
    comment = SupportComment(
        comment_id=new_id(),
        ticket_id=ticket_id,
        author_id=caller.id,
        body=body,
        internal=internal,
        version=1,
        created_at=iso(now),
        updated_at=iso(now),
    )
    answer = comment_view(comment)
    record, token = orders.first_answer(caller, idem, answer, now, comment.comment_id)
    try:
        store.add_comment(comment, record, now, token)
    except ConditionFailed as e:
        return _replay_winner(caller, idem, e)
    return Replay(201, answer)


def comments(caller: Caller, ticket_id: str, limit: int, cursor: str | None) -> Page[SupportComment]:
    readable(caller, ticket_id)
    return store.comments_page(ticket_id, sees_internal(caller), limit, cursor)


def get_comment(caller: Caller, comment_id: str) -> SupportComment:
    comment = store.find_comment(comment_id)
    ticket = store.find(comment.ticket_id) if comment is not None else None
    if comment is None or ticket is None or not may_read(caller, ticket):
        raise NotFound("No such comment.")
    if comment.internal and not sees_internal(caller):
        raise NotFound("No such comment.")
    return comment


def edit_comment(caller: Caller, comment_id: str, fields: dict[str, Any], version: int | None) -> SupportComment:
    comment = get_comment(caller, comment_id)
    changes = {name: value for name, value in fields.items() if getattr(comment, name) != value}
    editor = caller.id == comment.author_id or caller.can(Permission.EDIT_ALL)
    if "body" in changes and not editor:
        raise Forbidden("Only the comment's author may change it.", field="body")
    # Staff turn their own comments into notes and back; nobody hides someone else's words from them
    # (but can_edit_all, which edits anything).
    if "internal" in changes and not (editor and caller.can(Permission.MANAGE_TICKETS)):
        raise Forbidden("Only support staff may make their comment internal or public.", field="internal")
    if not changes:
        return comment
    store.edit_comment(comment, changes, version, iso(utcnow()))
    found = store.find_comment(comment_id)
    if found is None:
        raise NotFound("No such comment.")
    return found


def delete_comment(caller: Caller, comment_id: str, version: int | None = None) -> None:
    comment = get_comment(caller, comment_id)
    if caller.id != comment.author_id and not caller.can(Permission.DELETE_ALL):
        raise Forbidden("Only the comment's author may delete it.")
    store.delete_comment(comment, version)


# --- the activity consumer: notifications and clean-up --------------------------------------------

CLEANUP_JOB = "support_cleanup"
HISTORY, COMMENTS = "history", "comments"


def _describe(changes: list[dict[str, Any]]) -> str:
    parts = []
    for c in changes:
        if c["field"] in ("title", "description"):
            parts.append(f"{c['field']} edited")
        elif c["field"] == "assignee_id":
            parts.append(f"assigned to {user_domain.display_name(c['to'])}" if c["to"] else "unassigned")
        else:
            parts.append(f"{c['field']} {c['from']} → {c['to']}")
    return "; ".join(parts)


def ticket_changed(change: Change) -> None:
    """The creator and the assignees (before and after) hear of each change someone else made."""
    entry = change.new
    if not isinstance(entry, TicketChange) or int(entry.version) == 1:
        return
    who = user_domain.display_name(entry.actor_id)
    told = {entry.creator_id, entry.assignee_id, entry.previous_assignee_id} - {entry.actor_id, None}
    for user_id in sorted(u for u in told if u):
        assigned = user_id == entry.assignee_id and entry.assignee_id != entry.previous_assignee_id
        notify(
            change,
            user_id,
            "support_ticket_assigned" if assigned else "support_ticket_changed",
            f"Ticket {entry.title}: assigned to you" if assigned else f"Ticket {entry.title} changed",
            f"{who}: {_describe(entry.changes)}.",
            {"ticket_id": entry.ticket_id, "version": int(entry.version)},
        )


def comment_written(change: Change) -> None:
    """A public comment reaches the creator and the assignee; an internal note the assignee only."""
    comment = change.new
    if not isinstance(comment, SupportComment):
        return
    ticket = store.find(comment.ticket_id)
    if ticket is None:
        return
    told = {ticket.assignee_id} if comment.internal else {ticket.creator_id, ticket.assignee_id}
    who = user_domain.display_name(comment.author_id)
    for user_id in sorted(u for u in told - {comment.author_id} if u):
        notify(
            change,
            user_id,
            "support_note" if comment.internal else "support_comment",
            f"{who} {'added a note to' if comment.internal else 'commented on'} ticket {ticket.title}",
            comment.body[:200],
            {"ticket_id": ticket.ticket_id, "comment_id": comment.comment_id},
        )


def ticket_deleted(change: Change) -> None:
    if isinstance(change.old, SupportTicket):
        fanout.start(change, CLEANUP_JOB, {"ticket_id": change.old.ticket_id}, HISTORY)


@fanout.handler(CLEANUP_JOB)
def _clean_up(change: Change, step: FanoutStep, size: int) -> Next | None:
    found = store.leftovers_page(step.params["ticket_id"], step.phase, size, step.cursor)
    write_batch(deletes=found.items)
    if found.next_cursor:
        return Next(step.phase, found.next_cursor)
    return Next(COMMENTS, None) if step.phase == HISTORY else None


REACTIONS: Reactions = {
    ("support_history", "INSERT"): [ticket_changed],
    ("support_comment", "INSERT"): [comment_written],
    ("support_ticket", "REMOVE"): [ticket_deleted],
}
