"""Search: an n-gram index of user names and event titles, and the query that reads it.

Every user and event is posted under each bigram and trigram of its folded text (lower-cased,
accents dropped): ``SEARCH#<kind>#<gram>`` / ``<sort>``, where the sort key orders results
(users by username, events soonest first). A query folds ``q``, picks its rarest gram by the
gram counters (one BatchGetItem), reads that gram's postings page by page, keeps the postings
whose text holds the whole of ``q``, and stops at ``limit`` hits or after a bounded number of
postings. The hits are then read afresh (one BatchGetItem) and checked again, so a deleted or
renamed item drops out even before the activity consumer has caught up.

The counters are approximate (a redelivered stream record counts twice): they only choose
which partition to read. Correctness comes from checking the substring.
"""

from __future__ import annotations

import unicodedata
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, TypeVar

from pynamodb.attributes import ListAttribute, NumberAttribute, UnicodeAttribute
from pynamodb.expressions.condition import Condition

from chalicelib.domain.errors import Invalid
from chalicelib.store import keys
from chalicelib.store.events import Event
from chalicelib.store.pagination import Page, decode_cursor, encode_cursor
from chalicelib.store.table import Item, write_batch
from chalicelib.store.users import User

USER, EVENT = "user", "event"
MIN_QUERY = 2
MAX_NAME, MAX_TITLE = 100, 200  # folded text indexed per field: bounds the postings per item
READ_BUDGET = 500  # postings one request may read before it answers (with a cursor to go on)
MAX_QUERY_GRAMS = 100  # one BatchGetItem of counters

T = TypeVar("T", User, Event)


class Posting(Item, discriminator="search_posting"):
    """One item under one gram: the folded text(s) to check the whole query against."""

    item_id = UnicodeAttribute()
    texts = ListAttribute(of=UnicodeAttribute)
    category = UnicodeAttribute(null=True)  # events: filtered on without reading the event


class GramCount(Item, discriminator="search_gram_count"):
    postings = NumberAttribute(default=0)  # how many postings the gram has (approximately)


# --- text ----------------------------------------------------------------------------------------
def fold(text: str) -> str:
    """Lower-case, accent-free, whitespace collapsed: "  José  Ñúñez" → "jose nunez"."""
    decomposed = unicodedata.normalize("NFKD", text.casefold())
    bare = "".join(c for c in decomposed if not unicodedata.combining(c))
    # NFC again: Hangul syllables decomposed into jamo are composed back (one character each).
    return unicodedata.normalize("NFC", " ".join(bare.split()))


def grams(text: str) -> set[str]:
    """Every bigram and trigram of a folded text (a one-character text is its own gram)."""
    if len(text) < MIN_QUERY:
        return {text} if text else set()
    return {text[i : i + n] for n in (2, 3) for i in range(len(text) - n + 1)}


def needle(q: str) -> str:
    """The folded query, or 400 when it is shorter than two characters."""
    folded = fold(q)
    if len(folded) < MIN_QUERY:
        message = f"at least {MIN_QUERY} characters (spaces and accents aside)"
        raise Invalid(
            f"Query parameter q: {message}.", code="QueryTooShort", details=[{"field": "q", "message": message}]
        )
    return folded


def query_grams(folded: str) -> list[str]:
    """The grams a query may be answered from: its trigrams (rarer), or itself when two long."""
    if len(folded) == MIN_QUERY:
        return [folded]
    return list(dict.fromkeys(folded[i : i + 3] for i in range(len(folded) - 2)))[:MAX_QUERY_GRAMS]


# --- what an item puts in the index ----------------------------------------------------------------
@dataclass(frozen=True)
class Entry:
    """What one user or event wants in the index: its postings are (gram, sort) for every gram."""

    kind: str
    item_id: str
    sort: str
    texts: tuple[str, ...]
    category: str | None = None

    @property
    def grams(self) -> set[str]:
        return set().union(*(grams(t) for t in self.texts))

    def matches(self, folded_q: str) -> bool:
        return any(folded_q in t for t in self.texts)

    def posting(self, gram: str) -> Posting:
        pk, sk = keys.search_posting(self.kind, gram, self.sort)
        return Posting(pk, sk, item_id=self.item_id, texts=list(self.texts), category=self.category)

    def posting_keys(self) -> set[tuple[str, str]]:
        return {keys.search_posting(self.kind, g, self.sort) for g in self.grams}

    def same_data(self, other: Entry) -> bool:
        return (self.item_id, self.texts, self.category) == (other.item_id, other.texts, other.category)


def user_entry(user: User) -> Entry:
    """Username and name only, each on its own (a match across the two is no match); never the email."""
    texts = (fold(user.username)[:MAX_NAME], fold(user.name)[:MAX_NAME])
    return Entry(USER, user.user_id, keys.user_sort(user.username, user.user_id), texts)


def event_entry(event: Event) -> Entry:
    sort = keys.event_month_sort(event.starts_at, event.event_id)
    return Entry(EVENT, event.event_id, sort, (fold(event.title)[:MAX_TITLE],), event.category)


def entry_of(item: Item | None) -> Entry | None:
    if isinstance(item, User):
        return user_entry(item)
    if isinstance(item, Event):
        return event_entry(item)
    return None


# --- keeping the index ---------------------------------------------------------------------------
def update_index(old: Entry | None, new: Entry | None) -> int:
    """Move an item's postings from ``old`` to ``new``, writing only the difference.

    Puts and deletes are idempotent; the counters (ADD) are not, and need not be. Returns the
    number of postings written or deleted.
    """
    either = new or old
    if either is None:
        return 0
    old_grams = old.grams if old else set()
    new_grams = new.grams if new else set()
    moved = old is None or new is None or old.sort != new.sort
    changed = moved or not (old and new and old.same_data(new))
    gone = [old.posting(g) for g in old_grams if moved or g not in new_grams] if old else []
    fresh = [new.posting(g) for g in new_grams if changed or g not in old_grams] if new else []
    write_batch(fresh, gone)
    # Only trigrams are ever compared (a two-character query is its own, only gram): count those.
    deltas = [(g, -1) for g in old_grams - new_grams if len(g) == 3] + [
        (g, 1) for g in new_grams - old_grams if len(g) == 3
    ]
    # One UpdateItem per gram, one after another: threads here raced moto's in-process backend
    # (not thread-safe) in the tests; a new user is about 25 of them.
    for gram, delta in deltas:
        bump(either.kind, gram, delta)
    return len(gone) + len(fresh)


def counted(gram: str) -> bool:
    """Only trigrams are ever compared (a two-character query is its own, only gram): only they are counted."""
    return len(gram) == 3


def bump(kind: str, gram: str, delta: int) -> None:
    pk, sk = keys.search_gram_count(kind, gram)
    GramCount(pk, sk).update(actions=[GramCount.postings.add(delta), GramCount.type.set(GramCount)])


def set_count(kind: str, gram: str, count: int) -> None:
    pk, sk = keys.search_gram_count(kind, gram)
    GramCount(pk, sk, postings=count).save()


# --- reading the index ---------------------------------------------------------------------------
@dataclass
class Hits:
    postings: list[Posting]
    position: dict[str, Any] | None  # where the next page starts; None: the partition is done
    read: int  # postings read


def counts(kind: str, candidates: list[str]) -> dict[str, int]:
    """The counters of the query's grams: one BatchGetItem (a missing counter is 0)."""
    found: dict[str, int] = {}
    for item in Item.batch_get([keys.search_gram_count(kind, g) for g in candidates]):
        if isinstance(item, GramCount):
            found[item.pk.split("#", 2)[2]] = int(item.postings)
    return {g: found.get(g, 0) for g in candidates}


def rarest(kind: str, folded_q: str) -> str:
    candidates = query_grams(folded_q)
    if len(candidates) == 1:
        return candidates[0]
    by_count = counts(kind, candidates)
    return min(candidates, key=lambda g: by_count[g])


def find(
    kind: str,
    folded_q: str,
    limit: int,
    position: dict[str, Any] | None,
    *,
    sort_range: tuple[str, str] | None = None,
    accept: Callable[[Posting], bool] = lambda p: True,
    budget: int = READ_BUDGET,
) -> Hits:
    """Up to ``limit`` postings holding the whole query, reading at most ``budget`` postings."""
    gram = position.get("g") if position else None
    if not isinstance(gram, str) or gram not in query_grams(folded_q):
        gram, position = rarest(kind, folded_q), None
    pk = keys.search_postings(kind, gram)
    condition: Condition | None = Item.sk.between(*sort_range) if sort_range else None
    last = position.get("k") if position else None
    start = {"PK": {"S": pk}, "SK": {"S": last}} if isinstance(last, str) else None
    hits: list[Posting] = []
    read = 0
    while read < budget:
        # The rarest gram's postings mostly hold the whole query: ask for a few more than needed,
        # then (verification is dropping many) for twice as many.
        wanted = limit - len(hits)
        size = min(budget - read, wanted + 5 if read == 0 else 2 * wanted + 10)
        seen = 0
        for item in Item.query(pk, condition, limit=size, page_size=size, last_evaluated_key=start):
            seen += 1
            start = {"PK": {"S": pk}, "SK": {"S": item.sk}}
            if isinstance(item, Posting) and _holds(item, folded_q) and accept(item):
                hits.append(item)
                if len(hits) == limit:
                    return Hits(hits, {"g": gram, "k": item.sk}, read + seen)
        read += seen
        if seen < size:
            return Hits(hits, None, read)
    return Hits(hits, {"g": gram, "k": start["SK"]["S"]} if start else None, read)


def _holds(posting: Posting, folded_q: str) -> bool:
    return any(folded_q in t for t in posting.texts)


def hydrate(kind: type[T], postings: list[Posting], key: Callable[[str], tuple[str, str]]) -> dict[str, T]:
    """The postings' items as they are now: one BatchGetItem (deleted ones are simply absent)."""
    if not postings:
        return {}
    items = Item.batch_get([key(p.item_id) for p in postings])
    return {item.pk: item for item in items if isinstance(item, kind)}


def find_users(q: str, limit: int, cursor: str | None) -> Page[User]:
    """``GET /users?q=``: users whose username or name holds ``q``, by username."""
    folded = needle(q)
    scope = f"search#{USER}#{folded}"
    hits = find(USER, folded, limit, decode_cursor(cursor, scope))
    return Page(fresh_users(hits.postings, folded), encode_cursor(hits.position, scope))


def fresh_users(postings: list[Posting], folded_q: str) -> list[User]:
    found = hydrate(User, postings, keys.user)
    users = (found.get(keys.user(p.item_id)[0]) for p in postings)
    return [u for u in users if u is not None and user_entry(u).matches(folded_q)]


def find_events(
    folded_q: str,
    limit: int,
    position: dict[str, Any] | None,
    start_iso: str,
    end_iso: str,
    category: str | None,
) -> tuple[list[Event], dict[str, Any] | None]:
    """Events whose title holds the query, starting between two instants, soonest first."""
    hits = find(
        EVENT,
        folded_q,
        limit,
        position,
        sort_range=keys.event_month_range(start_iso, end_iso),
        accept=lambda p: category is None or p.category == category,
    )
    return fresh_events(hits.postings, folded_q, start_iso, end_iso, category), hits.position


def fresh_events(
    postings: list[Posting], folded_q: str, start_iso: str, end_iso: str, category: str | None
) -> list[Event]:
    found = hydrate(Event, postings, keys.event)
    events = (found.get(keys.event(p.item_id)[0]) for p in postings)
    return [
        e
        for e in events
        if e is not None
        and event_entry(e).matches(folded_q)
        and (category is None or e.category == category)
        and start_iso <= e.starts_at <= end_iso
    ]
