"""Bookmarks: a user's saved events, and (through GSI1) an event's followers.

One item serves both directions: ``BOOKMARKS#<user>`` / ``EVENT#<event>`` is the key that makes a
bookmark idempotent, GSI2 lists a user's bookmarks newest first, and GSI1 lists an event's
followers for the fan-out of its changes.
"""

from __future__ import annotations

from pynamodb.attributes import UnicodeAttribute
from pynamodb.exceptions import PutError

from chalicelib.store import keys
from chalicelib.store.pagination import Page, decode_cursor, page
from chalicelib.store.table import Item, find


class Bookmark(Item, discriminator="bookmark"):
    user_id = UnicodeAttribute()
    event_id = UnicodeAttribute()
    created_at = UnicodeAttribute()

    def set_keys(self) -> Bookmark:
        self.pk, self.sk = keys.bookmark(self.user_id, self.event_id)
        self.gsi1pk, self.gsi1sk = keys.followers(self.event_id), f"USER#{self.user_id}"
        self.gsi2pk = keys.bookmarks_of(self.user_id)
        self.gsi2sk = keys.created_sort(self.created_at, self.event_id)
        return self


def add(bookmark: Bookmark) -> tuple[Bookmark, bool]:
    """Bookmark once: a repeat returns the first bookmark. (bookmark, created)."""
    try:
        bookmark.set_keys().save(Bookmark.pk.does_not_exist())
        return bookmark, True
    except PutError as e:
        if e.cause_response_code != "ConditionalCheckFailedException":
            raise
    existing = find(Bookmark, keys.bookmark(bookmark.user_id, bookmark.event_id))
    assert existing is not None
    return existing, False


def remove(user_id: str, event_id: str) -> None:
    pk, sk = keys.bookmark(user_id, event_id)
    Bookmark(pk, sk).delete()  # deleting what is not there is not an error: DELETE is idempotent


def list_mine(user_id: str, limit: int, cursor: str | None) -> Page[Bookmark]:
    scope = keys.bookmarks_of(user_id)
    results = Item.gsi2.query(
        scope, scan_index_forward=False, limit=limit, last_evaluated_key=decode_cursor(cursor, scope)
    )
    return page(results, limit, Bookmark, scope)


def list_followers(event_id: str, limit: int, cursor: str | None) -> Page[Bookmark]:
    scope = keys.followers(event_id)
    results = Item.gsi1.query(scope, limit=limit, last_evaluated_key=decode_cursor(cursor, scope))
    return page(results, limit, Bookmark, scope)
