"""Bookmarks: save an event, list saved events; a bookmark follows the event's changes."""

from __future__ import annotations

from typing import Any

from chalicelib.domain import events
from chalicelib.domain.auth import Caller
from chalicelib.domain.ids import iso, utcnow
from chalicelib.store import bookmarks as store
from chalicelib.store import events as event_store
from chalicelib.store import keys
from chalicelib.store.bookmarks import Bookmark
from chalicelib.store.events import Event
from chalicelib.store.pagination import Page
from chalicelib.store.table import Item


def add(caller: Caller, event_id: str) -> Bookmark:
    event_store.load_event(event_id)  # 404 for an event that does not exist
    bookmark, _ = store.add(Bookmark(user_id=caller.id, event_id=event_id, created_at=iso(utcnow())))
    return bookmark


def remove(caller: Caller, event_id: str) -> None:
    store.remove(caller.id, event_id)


def view(bookmark: Bookmark) -> dict[str, Any]:
    return {"event_id": bookmark.event_id, "created_at": bookmark.created_at}


def list_mine(caller: Caller, limit: int, cursor: str | None) -> tuple[list[dict[str, Any]], str | None]:
    """A page of bookmarked events, newest bookmark first: one Query and one BatchGetItem."""
    marks: Page[Bookmark] = store.list_mine(caller.id, limit, cursor)
    found = {
        e.event_id: e for e in Item.batch_get([keys.event(b.event_id) for b in marks.items]) if isinstance(e, Event)
    }
    items = [
        {**events.view(found[b.event_id]), "bookmarked_at": b.created_at} for b in marks.items if b.event_id in found
    ]
    return items, marks.next_cursor
