"""Search (issue 8): the n-gram index kept by the activity consumer, the ``GET /search`` query,
and the operator's rebuild.

The index itself (folding, grams, postings, the query) is ``store/search.py``. Here: each user
or event record moves the item's postings from its old image's entry to its new one's, writing
only the difference, so a redelivered record changes nothing but the approximate counters.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from chalicelib.domain.events import listing_window
from chalicelib.domain.ids import iso, utcnow
from chalicelib.store import keys
from chalicelib.store import search as store
from chalicelib.store.events import Event
from chalicelib.store.pagination import Page, decode_cursor, encode_cursor
from chalicelib.store.search import EVENT, USER, Entry, GramCount, Posting
from chalicelib.store.table import Item, write_batch
from chalicelib.store.users import User
from chalicelib.streams.processor import Reactions
from chalicelib.streams.records import Change

EVENTS, USERS = "events", "users"


def reindex_item(change: Change) -> None:
    """A user or event was written or deleted: its postings follow (only what changed is written)."""
    store.update_index(store.entry_of(change.old), store.entry_of(change.new))


REACTIONS: Reactions = {
    (kind, name): [reindex_item] for kind in (USER, EVENT) for name in ("INSERT", "MODIFY", "REMOVE")
}


# --- GET /search ---------------------------------------------------------------------------------
def search(q: str, kinds: list[str], limit: int, cursor: str | None, now: datetime | None = None) -> Page[Item]:
    """Events, then users (in that order, one list), whose title / username / name holds ``q``.

    ``kinds`` is ``["events"]``, ``["users"]`` or ``["events", "users"]``; the cursor records which
    kind is being read and where.
    """
    folded = store.needle(q)
    scope = f"search#{'+'.join(kinds)}#{folded}"
    position = decode_cursor(cursor, scope) or {"t": kinds[0]}
    kind = position.get("t")
    if kind not in kinds:
        kind, position = kinds[0], {"t": kinds[0]}
    items: list[Item] = []
    while True:
        found, nxt = _find(str(kind), folded, limit - len(items), position, now or utcnow())
        items += found
        if nxt is not None:
            return Page(items, encode_cursor({**nxt, "t": kind}, scope))
        later = kinds[kinds.index(str(kind)) + 1 :]
        if not later:
            return Page(items, None)
        kind, position = later[0], {}
        if len(items) >= limit:
            return Page(items, encode_cursor({"t": kind}, scope))


def _find(
    kind: str, folded: str, limit: int, position: dict[str, Any], now: datetime
) -> tuple[list[Item], dict[str, Any] | None]:
    if kind == USERS:
        hits = store.find(USER, folded, limit, position)
        return [*store.fresh_users(hits.postings, folded)], hits.position
    start, end = listing_window(now)  # from today on, as GET /events lists them
    found, nxt = store.find_events(folded, limit, position, iso(start), iso(end), None)
    return [*found], nxt


# --- the operator's rebuild ------------------------------------------------------------------------
@dataclass
class Reindex:
    users: int = 0
    events: int = 0
    put: int = 0
    deleted: int = 0
    counters: int = 0
    wanted: dict[tuple[str, str], Posting] = field(default_factory=dict)
    existing: dict[tuple[str, str], Posting] = field(default_factory=dict)
    counts: dict[tuple[str, str], int] = field(default_factory=dict)
    old_counts: dict[tuple[str, str], int] = field(default_factory=dict)


def reindex(items: Iterable[Item], progress: Callable[[str], None] = lambda _: None) -> Reindex:
    """Make the index match ``items`` (every user, event, posting and counter: an operator's Scan).

    Writes only what differs: missing or out-of-date postings are put; postings of deleted or
    renamed items are deleted (after reading the item again, in case it changed meanwhile); the
    counters are set to exact counts. Safe to run again, and alongside the consumer (a counter it
    bumps meanwhile is off by that much until the next run: counters are approximate anyway).
    """
    run = Reindex()
    for item in items:
        _collect(run, item)
    progress(f"read {run.users} users, {run.events} events, {len(run.existing)} postings")
    puts = [p for k, p in run.wanted.items() if k not in run.existing or not _same(run.existing[k], p)]
    stale = _still_stale([p for k, p in run.existing.items() if k not in run.wanted])
    write_batch(puts, stale)
    run.put, run.deleted = len(puts), len(stale)
    for (kind, gram), n in run.counts.items():
        if run.old_counts.get((kind, gram)) != n:
            store.set_count(kind, gram, n)
            run.counters += 1
    gone = [GramCount(*keys.search_gram_count(k, g)) for (k, g) in run.old_counts if (k, g) not in run.counts]
    write_batch(deletes=gone)
    run.counters += len(gone)
    return run


def _collect(run: Reindex, item: Item) -> None:
    if isinstance(item, Posting):
        run.existing[(item.pk, item.sk)] = item
    elif isinstance(item, GramCount):
        kind, gram = item.pk.split("#", 2)[1:]
        run.old_counts[(kind, gram)] = int(item.postings)
    elif (entry := store.entry_of(item)) is not None:
        run.users += entry.kind == USER
        run.events += entry.kind == EVENT
        for gram in entry.grams:
            posting = entry.posting(gram)
            run.wanted[(posting.pk, posting.sk)] = posting
            if store.counted(gram):
                run.counts[(entry.kind, gram)] = run.counts.get((entry.kind, gram), 0) + 1


def _same(a: Posting, b: Posting) -> bool:
    return (a.item_id, list(a.texts), a.category) == (b.item_id, list(b.texts), b.category)


def _still_stale(candidates: list[Posting]) -> list[Posting]:
    """The candidates whose item, read now, does not want them (it may have been written since the Scan)."""
    refs = {_item_key(p.pk.split("#", 2)[1], p.item_id) for p in candidates}
    wanted: set[tuple[str, str]] = set()
    for item in Item.batch_get(list(refs)):
        entry: Entry | None = store.entry_of(item)
        if entry is not None:
            wanted |= entry.posting_keys()
    return [p for p in candidates if (p.pk, p.sk) not in wanted]


def _item_key(kind: str, item_id: str) -> tuple[str, str]:
    return keys.user(item_id) if kind == USER else keys.event(item_id)


def all_indexed_items() -> Iterable[Item]:
    """Every user, event, posting and counter: a Scan (for the operator command only, never a request)."""
    kinds = (User, Event, Posting, GramCount)
    return (item for item in Item.scan(Item.type.is_in(*kinds)) if isinstance(item, kinds))
