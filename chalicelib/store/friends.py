"""Friends: requests, the pair's one state item, and friendship edges (issue 8).

A friendship is two edges (``FRIENDS#<a>`` / ``USER#<b>`` and back), written and deleted in one
transaction, so it is always symmetric. Other aggregates ask here whether two users are friends.
"""

from __future__ import annotations

from pynamodb.attributes import UnicodeAttribute
from pynamodb.exceptions import DoesNotExist

from chalicelib.store import keys
from chalicelib.store.pagination import Page, decode_cursor, page
from chalicelib.store.table import Item


class Friend(Item, discriminator="friend"):
    """One direction of a friendship: ``user_id`` is friends with ``friend_id``."""

    user_id = UnicodeAttribute()
    friend_id = UnicodeAttribute()
    since = UnicodeAttribute()

    def set_keys(self) -> Friend:
        self.pk, self.sk = keys.friend(self.user_id, self.friend_id)
        return self


def are_friends(a: str, b: str) -> bool:
    if a == b:
        return False
    try:
        Friend.get(*keys.friend(a, b), consistent_read=True)
    except DoesNotExist:
        return False
    return True


def list_friends(user_id: str, limit: int, cursor: str | None) -> Page[Friend]:
    scope = keys.friends(user_id)
    results = Item.query(
        keys.friends(user_id),
        Item.sk.startswith(keys.FRIEND_PREFIX),
        limit=limit,
        last_evaluated_key=decode_cursor(cursor, scope),
    )
    return page(results, limit, Friend, scope)
