"""Friends: requests, the pair's one state item, and friendship edges (issue 8).

A friendship is two edges (``FRIENDS#<a>`` / ``USER#<b>`` and back), written and deleted in one
transaction, so it is always symmetric. Other aggregates ask here whether two users are friends.

Each pair of users has at most one state item (``PAIR#<lo>#<hi>``): it exists while a request
between them is pending (``status = pending``, naming the request) or while they are friends
(``status = friends``). Creating a request puts it with ``attribute_not_exists``, so two users
asking each other at the same moment make one request; accepting, declining, cancelling and
unfriending change it in the same transaction as the request and the edges.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

from pynamodb.attributes import UnicodeAttribute

from chalicelib.store import keys
from chalicelib.store.pagination import Page, decode_cursor, encode_cursor, page
from chalicelib.store.table import Item, find
from chalicelib.store.tx import Tx

PENDING, ACCEPTED, DECLINED, CANCELLED = "pending", "accepted", "declined", "cancelled"
FRIENDS = "friends"
CLOSED_REQUEST_DAYS = 30  # declined and cancelled requests vanish (TTL) after this


class Friend(Item, discriminator="friend"):
    """One direction of a friendship: ``user_id`` is friends with ``friend_id``."""

    user_id = UnicodeAttribute()
    friend_id = UnicodeAttribute()
    since = UnicodeAttribute()
    request_id = UnicodeAttribute(null=True)  # the accepted request that made the friendship

    def set_keys(self) -> Friend:
        self.pk, self.sk = keys.friend(self.user_id, self.friend_id)
        return self


class FriendPair(Item, discriminator="friend_pair"):
    """The pair's one state item: a pending request between the two, or their friendship."""

    low = UnicodeAttribute()
    high = UnicodeAttribute()
    status = UnicodeAttribute()  # pending | friends
    request_id = UnicodeAttribute()
    from_user_id = UnicodeAttribute()  # who asked
    since = UnicodeAttribute()

    def set_keys(self) -> FriendPair:
        self.pk, self.sk = keys.friend_pair(self.low, self.high)
        return self


class FriendRequest(Item, discriminator="friend_request"):
    """A request from ``from_user_id`` to ``to_user_id``; listed (GSI1 incoming, GSI2 outgoing)
    only while pending."""

    request_id = UnicodeAttribute()
    from_user_id = UnicodeAttribute()
    to_user_id = UnicodeAttribute()
    status = UnicodeAttribute(default=PENDING)
    created_at = UnicodeAttribute()
    decided_at = UnicodeAttribute(null=True)

    def set_keys(self) -> FriendRequest:
        self.pk, self.sk = keys.friend_request(self.request_id)
        if self.status == PENDING:
            sort = keys.created_sort(self.created_at, self.request_id)
            self.gsi1pk, self.gsi1sk = keys.friend_requests_to(self.to_user_id), sort
            self.gsi2pk, self.gsi2sk = keys.friend_requests_from(self.from_user_id), sort
        return self

    def other(self, user_id: str) -> str:
        return self.to_user_id if user_id == self.from_user_id else self.from_user_id


# --- friendship edges (used by posts and messages too) ---------------------------------------


def are_friends(a: str, b: str) -> bool:
    return a != b and find(Friend, keys.friend(a, b)) is not None


def get_friend(user_id: str, friend_id: str) -> Friend | None:
    return find(Friend, keys.friend(user_id, friend_id))


def list_friends(user_id: str, limit: int, cursor: str | None) -> Page[Friend]:
    scope = keys.friends(user_id)
    results = Item.query(
        keys.friends(user_id),
        Item.sk.startswith(keys.FRIEND_PREFIX),
        limit=limit,
        last_evaluated_key=decode_cursor(cursor, scope),
    )
    return page(results, limit, Friend, scope)


def edges(a: str, b: str, since: str, request_id: str | None) -> tuple[Friend, Friend]:
    return (
        Friend(user_id=a, friend_id=b, since=since, request_id=request_id).set_keys(),
        Friend(user_id=b, friend_id=a, since=since, request_id=request_id).set_keys(),
    )


# --- the pair and its requests -----------------------------------------------------------------


def get_pair(a: str, b: str) -> FriendPair | None:
    return find(FriendPair, keys.friend_pair(a, b))


def get_request(request_id: str) -> FriendRequest | None:
    return find(FriendRequest, keys.friend_request(request_id))


def pair_ref(a: str, b: str) -> FriendPair:
    pk, sk = keys.friend_pair(a, b)
    return FriendPair(pk, sk)


def add_request(request: FriendRequest) -> None:
    """The request and the pair's state item, in one transaction. Raises ConditionFailed tagged
    ``pair`` (with the pair as it is) when a request is pending or the two are friends."""
    low, high = keys.pair(request.from_user_id, request.to_user_id)
    pair = FriendPair(
        low=low,
        high=high,
        status=PENDING,
        request_id=request.request_id,
        from_user_id=request.from_user_id,
        since=request.created_at,
    ).set_keys()
    tx = Tx()
    tx.put("pair", pair, FriendPair.pk.does_not_exist())
    # A fresh id: if its put fails, an earlier attempt of this very transaction committed.
    tx.put("request", request.set_keys(), FriendRequest.pk.does_not_exist(), fresh=True)
    tx.commit(token=request.request_id)


def _close_actions(status: str, now_iso: str) -> list[Any]:
    """The request leaves both (sparse) indexes when it is no longer pending."""
    return [
        FriendRequest.status.set(status),
        FriendRequest.decided_at.set(now_iso),
        FriendRequest.gsi1pk.remove(),
        FriendRequest.gsi1sk.remove(),
        FriendRequest.gsi2pk.remove(),
        FriendRequest.gsi2sk.remove(),
    ]


def accept(request: FriendRequest, now_iso: str) -> tuple[Friend, Friend]:
    """Request → accepted, pair → friends, both edges: one transaction. Raises ConditionFailed
    tagged ``request`` (no longer pending) or ``pair`` (not this request's)."""
    a, b = request.from_user_id, request.to_user_id
    pair = pair_ref(a, b)
    forward, back = edges(a, b, now_iso, request.request_id)
    tx = Tx()
    tx.update("request", request, _close_actions(ACCEPTED, now_iso), FriendRequest.status == PENDING)
    pair_is_this = (FriendPair.status == PENDING) & (FriendPair.request_id == request.request_id)
    tx.update("pair", pair, [FriendPair.status.set(FRIENDS), FriendPair.since.set(now_iso)], pair_is_this)
    tx.put("edge", forward)
    tx.put("edge_back", back)
    tx.commit()
    return forward, back


def close(request: FriendRequest, status: str, now: datetime, now_iso: str) -> None:
    """Decline or cancel a pending request: request closed (it vanishes later), pair item deleted,
    in one transaction. Raises ConditionFailed tagged ``request`` when it is no longer pending."""
    actions = [*_close_actions(status, now_iso), FriendRequest.ttl.set(now + timedelta(days=CLOSED_REQUEST_DAYS))]
    tx = Tx()
    tx.update("request", request, actions, FriendRequest.status == PENDING)
    pair = pair_ref(request.from_user_id, request.to_user_id)
    tx.delete("pair", pair, FriendPair.request_id == request.request_id)
    tx.commit()


def unfriend(a: str, b: str) -> None:
    """Both edges and the pair item, in one transaction. Raises ConditionFailed tagged ``pair``
    when the two are not friends (nothing is deleted then)."""
    tx = Tx()
    tx.delete("pair", pair_ref(a, b), FriendPair.status == FRIENDS)
    for user_id, friend_id in ((a, b), (b, a)):
        pk, sk = keys.friend(user_id, friend_id)
        tx.delete(f"edge:{user_id}", Friend(pk, sk))
    tx.commit()


INCOMING, OUTGOING = "incoming", "outgoing"


def pending_requests(user_id: str, directions: list[str], limit: int, cursor: str | None) -> Page[FriendRequest]:
    """The user's pending requests in the given directions, newest first, merged.

    The cursor remembers, per direction, the sort key of the last request returned (so each
    page is at most one Query per direction) and which directions are done."""
    scope = f"{keys.friend_requests_to(user_id)}|{','.join(directions)}"
    position = decode_cursor(cursor, scope) or {}
    found: dict[str, list[tuple[str, FriendRequest]]] = {}
    for direction in directions:
        after = position.get(direction)
        if after is False:
            continue  # done with this direction
        found[direction] = _pending(user_id, direction, after if isinstance(after, str) else None, limit + 1)
    rows_all = [(sort, d, r) for d, rows in found.items() for sort, r in rows]
    merged = sorted(rows_all, key=lambda row: row[0], reverse=True)[:limit]
    taken: dict[str, str] = {}
    for sort, direction, _ in merged:
        taken[direction] = sort  # the last (oldest) taken in each direction
    next_position: dict[str, object] = {}
    for direction in directions:
        rows = found.get(direction)
        if rows is None:
            next_position[direction] = False
            continue
        used = sum(1 for _, d, _ in merged if d == direction)
        if used < len(rows):
            next_position[direction] = taken.get(direction, position.get(direction) or "")
        else:
            next_position[direction] = False
    more = any(v is not False for v in next_position.values())
    return Page([r for _, _, r in merged], encode_cursor(next_position, scope) if more else None)


def _pending(user_id: str, direction: str, before: str | None, limit: int) -> list[tuple[str, FriendRequest]]:
    results: Any
    if direction == INCOMING:
        condition = Item.gsi1sk < before if before else None
        results = Item.gsi1.query(keys.friend_requests_to(user_id), condition, scan_index_forward=False, limit=limit)
    else:
        condition = Item.gsi2sk < before if before else None
        results = Item.gsi2.query(keys.friend_requests_from(user_id), condition, scan_index_forward=False, limit=limit)
    rows = []
    for item in results:
        if isinstance(item, FriendRequest):
            sort = item.gsi1sk if direction == INCOMING else item.gsi2sk
            rows.append((str(sort), item))
    return rows
