"""The waiting list of a sold-out section: one entry per user per event, in order of joining.

An entry is listed in its section's queue (GSI1, sorted by the time of
joining) only while it is waiting; an offer takes it out of the queue in the
same transaction that creates the offered hold.
"""

from __future__ import annotations

from pynamodb.attributes import NumberAttribute, UnicodeAttribute
from pynamodb.exceptions import DeleteError, PutError, UpdateError

from chalicelib.store import keys
from chalicelib.store.table import Item, find

WAITING, OFFERED, EXPIRED = "waiting", "offered", "expired"


class WaitlistEntry(Item, discriminator="waitlist_entry"):
    entry_id = UnicodeAttribute()
    event_id = UnicodeAttribute()
    user_id = UnicodeAttribute()
    section = UnicodeAttribute()
    quantity = NumberAttribute()
    status = UnicodeAttribute(default=WAITING)
    joined_at = UnicodeAttribute()
    hold_id = UnicodeAttribute(null=True)
    offered_at = UnicodeAttribute(null=True)
    offer_expires_at = UnicodeAttribute(null=True)

    def set_keys(self) -> WaitlistEntry:
        self.pk, self.sk = keys.waitlist_entry(self.event_id, self.user_id)
        if self.status == WAITING:
            self.gsi1pk = keys.waitlist_queue(self.event_id, self.section)
            self.gsi1sk = keys.created_sort(self.joined_at, self.user_id)
        return self


def join(entry: WaitlistEntry) -> bool:
    """Put the entry unless the user is already waiting or offered; False if they are."""
    try:
        entry.set_keys().save(condition=WaitlistEntry.pk.does_not_exist() | (WaitlistEntry.status == EXPIRED))
    except PutError as e:
        if e.cause_response_code != "ConditionalCheckFailedException":
            raise
        # Our own put, answered late and sent again by botocore, also fails this condition.
        found = get(entry.event_id, entry.user_id)
        return found is not None and found.entry_id == entry.entry_id
    return True


def get(event_id: str, user_id: str) -> WaitlistEntry | None:
    return find(WaitlistEntry, keys.waitlist_entry(event_id, user_id))


def position(entry: WaitlistEntry) -> int:
    """1 for the first in line: the waiting entries that joined before this one, plus one."""
    ahead = Item.gsi1.count(
        keys.waitlist_queue(entry.event_id, entry.section),
        Item.gsi1sk < keys.created_sort(entry.joined_at, entry.user_id),
    )
    return int(ahead) + 1


def queue(event_id: str, section: str, limit: int = 100) -> list[WaitlistEntry]:
    """The first waiting entries of a section, in order of joining."""
    results = Item.gsi1.query(keys.waitlist_queue(event_id, section), limit=limit)
    return [e for e in results if isinstance(e, WaitlistEntry) and e.status == WAITING]


def leave(entry: WaitlistEntry) -> None:
    try:
        entry.delete(condition=WaitlistEntry.joined_at == entry.joined_at)
    except DeleteError as e:
        if e.cause_response_code != "ConditionalCheckFailedException":
            raise  # else it changed meanwhile (an offer, a rejoin): the caller reads again


def offer_ended(event_id: str, user_id: str, hold_id: str, status: str | None) -> None:
    """The offered hold ended: expired → the entry is ``expired``; paid or released → it is gone."""
    entry = get(event_id, user_id)
    if entry is None or entry.hold_id != hold_id:
        return
    condition = WaitlistEntry.hold_id == hold_id
    try:
        if status is None:
            entry.delete(condition=condition)
        else:
            entry.update(actions=[WaitlistEntry.status.set(status)], condition=condition)
    except (DeleteError, UpdateError) as e:
        if e.cause_response_code != "ConditionalCheckFailedException":
            raise  # else the entry moved on meanwhile (left, joined again)
