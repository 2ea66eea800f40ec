"""Messages and the conversation list (issue 8).

A message lives in its conversation's partition (``CONVO#<lo>#<hi>`` / ``MSG#<ulid>``), so a
conversation reads newest first with one Query, and its stream records (one partition key)
arrive in order. Each participant has a ``ConversationEntry`` (``CONVOS#<user>`` /
``WITH#<other>``, GSI1 ``CONVOS#<user>`` / ``<last_message_at>#<other>``): the latest message and
the unread count, kept by the activity consumer. Every projection update is conditional on the
message id (``last_message_id < :id``), so a redelivered or older record changes nothing; a
message at or below ``read_up_to`` was already seen, so it is never counted unread.
"""

from __future__ import annotations

from typing import Any

from pynamodb.attributes import NumberAttribute, UnicodeAttribute
from pynamodb.exceptions import UpdateError

from chalicelib.store import keys
from chalicelib.store.friends import Friend
from chalicelib.store.idempotency import IdempotencyRecord, absent_or_expired
from chalicelib.store.pagination import Page, decode_cursor, page
from chalicelib.store.table import Item, find
from chalicelib.store.tx import Tx

PREVIEW_CHARS = 100


class Message(Item, discriminator="message"):
    message_id = UnicodeAttribute()
    from_user_id = UnicodeAttribute()
    to_user_id = UnicodeAttribute()
    body = UnicodeAttribute()
    created_at = UnicodeAttribute()

    def set_keys(self) -> Message:
        self.pk, self.sk = keys.message(self.from_user_id, self.to_user_id, self.message_id)
        return self


class ConversationEntry(Item, discriminator="conversation_entry"):
    """One user's view of a conversation: listed (GSI1) once it has a message."""

    user_id = UnicodeAttribute()
    other_id = UnicodeAttribute()
    last_message_id = UnicodeAttribute(null=True)
    last_from_user_id = UnicodeAttribute(null=True)
    last_body = UnicodeAttribute(null=True)  # a preview
    last_at = UnicodeAttribute(null=True)
    unread = NumberAttribute(default=0)
    read_up_to = UnicodeAttribute(null=True)  # the newest message id the user has seen


def add(message: Message, record: IdempotencyRecord | None, now: Any, token: str | None) -> None:
    """The message, if the two are friends at this moment (a condition check on the sender's
    edge), with the Idempotency-Key's record. Raises ConditionFailed tagged ``friend`` or
    ``idempotency``."""
    tx = Tx()
    tx.check("friend", Friend, keys.friend(message.from_user_id, message.to_user_id), Friend.pk.exists())
    tx.put("message", message.set_keys(), Message.pk.does_not_exist(), fresh=True)
    if record is not None:
        tx.put("idempotency", record, absent_or_expired(now))
    tx.commit(token=token or message.message_id)


def conversation(a: str, b: str, limit: int, cursor: str | None) -> Page[Message]:
    """A page of the conversation of ``a`` and ``b``, newest first."""
    scope = keys.conversation(a, b)
    results = Item.query(
        scope,
        Item.sk.startswith(keys.MESSAGE_PREFIX),
        scan_index_forward=False,
        consistent_read=True,
        limit=limit,
        last_evaluated_key=decode_cursor(cursor, scope),
    )
    return page(results, limit, Message, scope)


def count_from(a: str, b: str, sender: str, after_id: str, up_to_id: str) -> int:
    """How many messages of ``sender`` in the conversation have ids in (after_id, up_to_id]."""
    scope = keys.conversation(a, b)
    low, high = keys.message(a, b, after_id)[1], keys.message(a, b, up_to_id)[1]
    results = Item.query(
        scope,
        Item.sk.between(low, high),
        filter_condition=Message.from_user_id == sender,
        consistent_read=True,
    )
    return sum(1 for m in results if isinstance(m, Message) and m.message_id != after_id)


# --- the conversation list (projection) --------------------------------------------------------


def entry_ref(user_id: str, other_id: str) -> ConversationEntry:
    pk, sk = keys.conversation_entry(user_id, other_id)
    return ConversationEntry(pk, sk)


def get_entry(user_id: str, other_id: str) -> ConversationEntry | None:
    return find(ConversationEntry, keys.conversation_entry(user_id, other_id))


def _conditional(entry: ConversationEntry, actions: list[Any], condition: Any) -> bool:
    """Apply the update if the condition holds (creating the entry if need be); False if not."""
    try:
        entry.update(actions=actions, condition=condition)
        return True
    except UpdateError as e:
        if e.cause_response_code == "ConditionalCheckFailedException":
            return False
        raise


def project(message: Message, user_id: str, other_id: str) -> None:
    """Make ``message`` the latest of ``user_id``'s entry for ``other_id`` unless a newer (or this)
    message already is; count it unread for the recipient unless already seen."""
    entry = entry_ref(user_id, other_id)
    mid = message.message_id
    newer = ConversationEntry.last_message_id.does_not_exist() | (ConversationEntry.last_message_id < mid)
    actions: list[Any] = [
        ConversationEntry.type.set(ConversationEntry),
        ConversationEntry.user_id.set(user_id),
        ConversationEntry.other_id.set(other_id),
        ConversationEntry.last_message_id.set(mid),
        ConversationEntry.last_from_user_id.set(message.from_user_id),
        ConversationEntry.last_body.set(message.body[:PREVIEW_CHARS]),
        ConversationEntry.last_at.set(message.created_at),
        ConversationEntry.gsi1pk.set(keys.conversations_of(user_id)),
        ConversationEntry.gsi1sk.set(keys.created_sort(message.created_at, other_id)),
    ]
    if message.to_user_id == user_id:
        unseen = ConversationEntry.read_up_to.does_not_exist() | (ConversationEntry.read_up_to < mid)
        counted = [*actions, ConversationEntry.unread.add(1)]
        if _conditional(entry, counted, newer & unseen):
            return
    _conditional(entry, actions, newer)


def mark_read(entry: ConversationEntry | None, user_id: str, other_id: str, up_to: str, unread: int) -> bool:
    """Set ``read_up_to`` to ``up_to`` and the unread count, if the entry's latest message is still
    the one we based ``unread`` on and ``read_up_to`` only moves forward. False if it changed."""
    latest = entry.last_message_id if entry is not None else None
    same = (
        ConversationEntry.last_message_id.does_not_exist()
        if latest is None
        else ConversationEntry.last_message_id == latest
    )
    forward = ConversationEntry.read_up_to.does_not_exist() | (ConversationEntry.read_up_to < up_to)
    actions: list[Any] = [
        ConversationEntry.type.set(ConversationEntry),
        ConversationEntry.user_id.set(user_id),
        ConversationEntry.other_id.set(other_id),
        ConversationEntry.read_up_to.set(up_to),
        ConversationEntry.unread.set(unread),
    ]
    return _conditional(entry_ref(user_id, other_id), actions, same & forward)


def conversations_of(user_id: str, limit: int, cursor: str | None) -> Page[ConversationEntry]:
    """The user's conversations, latest message first (GSI1; entries without a message are not listed)."""
    scope = keys.conversations_of(user_id)
    results = Item.gsi1.query(
        scope, scan_index_forward=False, limit=limit, last_evaluated_key=decode_cursor(cursor, scope)
    )
    return page(results, limit, ConversationEntry, scope)
