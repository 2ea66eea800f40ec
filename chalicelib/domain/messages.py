"""Private messages between friends, and each user's conversation list (issue 8).

Sending is one transaction: a condition check that the two are friends at that moment, the
message (a fresh, time-sortable id) and, with an ``Idempotency-Key``, its record (a retry with
the same key and body answers the first message instead of sending twice). The conversation
list is a projection kept by the activity consumer (store/messages.py explains why it is safe
to redeliver). Reading the first page of a conversation marks it read for the caller.

``/conversations/{user_id}/messages`` names the *other* participant: the caller always reads
their own conversation with that user, so nobody can read a conversation they are not part
of (a third party just sees their own, empty, conversation with that user). Messages stay
readable by both after an unfriending; only sending needs the friendship.
"""

from __future__ import annotations

from typing import Any

from chalicelib.domain import orders
from chalicelib.domain.auth import Caller
from chalicelib.domain.errors import Conflict, Forbidden, Invalid, NotFound
from chalicelib.domain.friends import public, users_by_id
from chalicelib.domain.ids import iso, new_id, utcnow
from chalicelib.domain.notifications import notify
from chalicelib.domain.users import display_name
from chalicelib.store import messages as store
from chalicelib.store import users
from chalicelib.store.idempotency import Replay
from chalicelib.store.messages import ConversationEntry, Message
from chalicelib.store.tx import ConditionFailed
from chalicelib.streams.processor import Reactions
from chalicelib.streams.records import Change

MARK_READ_ATTEMPTS = 4


def view(message: Message) -> dict[str, Any]:
    return {
        "id": message.message_id,
        "from_user_id": message.from_user_id,
        "to_user_id": message.to_user_id,
        "body": message.body,
        "created_at": message.created_at,
    }


def send(caller: Caller, to_user_id: str, body: str, idem: tuple[str, str] | None) -> Replay:
    """Send a message to a friend: 403 ``NotFriends`` otherwise, 404 for an unknown user."""
    earlier = orders.earlier_answer(caller, idem)
    if earlier is not None:
        return earlier
    if to_user_id == caller.id:
        why = "You cannot send a message to yourself."
        raise Invalid(why, code="CannotMessageSelf", details=[{"field": "to_user_id", "message": why}])
    now = utcnow()
    message = Message(
        message_id=new_id(), from_user_id=caller.id, to_user_id=to_user_id, body=body, created_at=iso(now)
    )
    answer = view(message)
    record, token = orders.first_answer(caller, idem, answer, now, message.message_id)
    try:
        store.add(message, record, now, token)
    except ConditionFailed as e:
        if "idempotency" in e:
            return _replay_winner(caller, idem)
        users.require(to_user_id)  # 404 for a user who does not exist
        raise Forbidden("You can only send messages to your friends.", code="NotFriends") from e
    return Replay(201, answer)


def _replay_winner(caller: Caller, idem: tuple[str, str] | None) -> Replay:
    earlier = orders.earlier_answer(caller, idem)
    if earlier is None:
        raise Conflict("A request with this Idempotency-Key is in progress.", code="IdempotencyKeyInProgress")
    return earlier


def read(caller: Caller, other_id: str, limit: int, cursor: str | None) -> tuple[list[Any], str | None]:
    """A page of the caller's conversation with ``other_id``, newest first; the first page marks
    the conversation read up to its newest message."""
    if other_id == caller.id:
        raise NotFound("You have no conversation with yourself.")
    # A deleted user's conversation stays readable by the other participant (it is still listed).
    if users.get(other_id) is None and store.get_entry(caller.id, other_id) is None:
        raise NotFound("No such user.")
    found = store.conversation(caller.id, other_id, limit, cursor)
    if cursor is None and found.items:
        _mark_read(caller.id, other_id, found.items[0].message_id)
    return [view(m) for m in found.items], found.next_cursor


def _mark_read(user_id: str, other_id: str, newest_seen: str) -> None:
    """unread → what arrived after ``newest_seen`` (0, unless a newer message was projected
    meanwhile: those stay unread). Best effort: a conversation busy past a few attempts stays
    as it was and is marked read on the next visit."""
    for _ in range(MARK_READ_ATTEMPTS):
        entry = store.get_entry(user_id, other_id)
        if entry is not None and entry.read_up_to is not None and entry.read_up_to >= newest_seen:
            return  # already read this far
        latest = entry.last_message_id if entry is not None else None
        unread = 0
        if latest is not None and latest > newest_seen:
            unread = store.count_from(user_id, other_id, other_id, newest_seen, latest)
        if store.mark_read(entry, user_id, other_id, newest_seen, unread):
            return


def entry_view(entry: ConversationEntry, other: dict[str, Any]) -> dict[str, Any]:
    return {
        "user_id": entry.other_id,
        "user": other,
        "last_message": {
            "id": entry.last_message_id,
            "from_user_id": entry.last_from_user_id,
            "body": entry.last_body,
            "created_at": entry.last_at,
        },
        "unread": int(entry.unread),
    }


def conversations(caller: Caller, limit: int, cursor: str | None) -> tuple[list[Any], str | None]:
    """The caller's conversations, latest message first, with the other user's public profile
    (a deleted user shows as one: the messages stay)."""
    found = store.conversations_of(caller.id, limit, cursor)
    people = users_by_id([e.other_id for e in found.items])
    return [entry_view(e, public(e.other_id, people.get(e.other_id))) for e in found.items], found.next_cursor


# --- the activity consumer ---------------------------------------------------------------------


def message_sent(change: Change) -> None:
    """Both participants' conversation entries, then the recipient's notification: each step is
    idempotent, so a redelivered record changes nothing."""
    message = change.new
    if not isinstance(message, Message):
        return
    store.project(message, message.from_user_id, message.to_user_id)
    store.project(message, message.to_user_id, message.from_user_id)
    name = display_name(message.from_user_id)
    preview = message.body if len(message.body) <= store.PREVIEW_CHARS else message.body[: store.PREVIEW_CHARS] + "…"
    notify(
        change,
        message.to_user_id,
        "new_message",
        f"New message from {name}",
        preview,
        {"message_id": message.message_id, "from_user_id": message.from_user_id},
    )


REACTIONS: Reactions = {("message", "INSERT"): [message_sent]}
