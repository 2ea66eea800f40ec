"""Friends: requests (send, accept, decline, cancel), the friend list, unfriending (issue 8).

One pending request per pair, whichever side sent it: the pair's state item is put with
``attribute_not_exists`` in the same transaction as the request. When the other side has
already asked, a new request is refused with 409 ``RequestPending`` naming that request (the
caller accepts it instead): an answer never turns into a friendship the caller did not ask for.
"""

from __future__ import annotations

import contextlib
from typing import Any

from chalicelib.domain import fanout
from chalicelib.domain import users as user_domain
from chalicelib.domain.auth import Caller
from chalicelib.domain.errors import Conflict, Forbidden, Invalid, NotFound
from chalicelib.domain.fanout import Next
from chalicelib.domain.ids import iso, new_id, utcnow
from chalicelib.domain.notifications import notify
from chalicelib.store import friends as store
from chalicelib.store import keys, users
from chalicelib.store.fanout import FanoutStep
from chalicelib.store.friends import ACCEPTED, CANCELLED, DECLINED, FRIENDS, PENDING, Friend, FriendRequest
from chalicelib.store.table import Item
from chalicelib.store.tx import ConditionFailed
from chalicelib.store.users import User
from chalicelib.streams.processor import Reactions, status_changed
from chalicelib.streams.records import Change

DIRECTIONS = (store.INCOMING, store.OUTGOING)
FORGET_JOB = "friends_forget_user"
REQUESTS_PHASE, FRIENDS_PHASE = "requests", "friends"


# --- views ---------------------------------------------------------------------------------


def users_by_id(user_ids: list[str]) -> dict[str, User]:
    """Public profiles in one BatchGetItem."""
    wanted = list(dict.fromkeys(user_ids))
    if not wanted:
        return {}
    return {u.user_id: u for u in Item.batch_get([keys.user(i) for i in wanted]) if isinstance(u, User)}


def public(user_id: str, user: User | None) -> dict[str, Any]:
    """The other user's public profile, or a deleted user (until the clean-up has run)."""
    return {**user_domain.ref(user_id, user), **(user_domain.view(user, None) if user is not None else {})}


def request_view(request: FriendRequest, caller: Caller, found: dict[str, User]) -> dict[str, Any]:
    other = request.other(caller.id)
    return {
        "id": request.request_id,
        "from_user_id": request.from_user_id,
        "to_user_id": request.to_user_id,
        "direction": store.OUTGOING if request.from_user_id == caller.id else store.INCOMING,
        "status": request.status,
        "created_at": request.created_at,
        "decided_at": request.decided_at,
        "user": public(other, found.get(other)),
    }


def friendship_view(edge: Friend, user: User | None) -> dict[str, Any]:
    return {"user_id": edge.friend_id, "since": edge.since, "user": public(edge.friend_id, user)}


# --- requests ------------------------------------------------------------------------------


def send(caller: Caller, to_user_id: str) -> dict[str, Any]:
    """Ask ``to_user_id`` to be friends: 409 when already friends or a request between the two
    is pending (whichever side sent it)."""
    if to_user_id == caller.id:
        message = "You cannot send a friend request to yourself."
        raise Invalid(message, code="CannotBefriendSelf", details=[{"field": "user_id", "message": message}])
    other = users.require(to_user_id)
    request = FriendRequest(
        request_id=new_id(), from_user_id=caller.id, to_user_id=to_user_id, status=PENDING, created_at=iso(utcnow())
    )
    try:
        store.add_request(request)
    except ConditionFailed as e:
        raise _refused(caller, to_user_id, e) from e
    return request_view(request, caller, {other.user_id: other})


def _refused(caller: Caller, other_id: str, e: ConditionFailed) -> Conflict:
    status, request_id = e.old_string("pair", "status"), e.old_string("pair", "request_id")
    from_user_id = e.old_string("pair", "from_user_id")
    if status is None:  # the old image was not returned: read the pair
        pair = store.get_pair(caller.id, other_id)
        if pair is None:
            return Conflict("The request crossed another change; retry.", code="Conflict")
        status, request_id, from_user_id = pair.status, pair.request_id, pair.from_user_id
    if status == FRIENDS:
        return Conflict("You are already friends.", code="AlreadyFriends", user_id=other_id)
    direction = store.OUTGOING if from_user_id == caller.id else store.INCOMING
    message = (
        "You already asked this user." if direction == store.OUTGOING else "This user already asked you: accept it."
    )
    return Conflict(message, code="RequestPending", request_id=request_id, direction=direction)


def pending(caller: Caller, direction: str | None, limit: int, cursor: str | None) -> tuple[list[Any], str | None]:
    """Pending requests, newest first: incoming, outgoing, or both merged (``direction`` None)."""
    if direction is not None and direction not in DIRECTIONS:
        message = "incoming or outgoing"
        raise Invalid(f"direction: {message}.", details=[{"field": "direction", "message": message}])
    found = store.pending_requests(caller.id, [direction] if direction else list(DIRECTIONS), limit, cursor)
    people = users_by_id([r.other(caller.id) for r in found.items])
    return [request_view(r, caller, people) for r in found.items], found.next_cursor


def _mine(caller: Caller, request_id: str) -> FriendRequest:
    request = store.get_request(request_id)
    if request is None or caller.id not in (request.from_user_id, request.to_user_id):
        raise NotFound("No such friend request.")
    return request


def accept(caller: Caller, request_id: str) -> dict[str, Any]:
    """The addressee accepts: both edges, the request and the pair change in one transaction.
    Accepting an accepted request again (a retry, a double click) answers the friendship."""
    request = _mine(caller, request_id)
    if caller.id != request.to_user_id:
        raise Forbidden("Only the user who received the request may accept it.", code="NotAddressee")
    if request.status == PENDING:
        try:
            _, mine = store.accept(request, iso(utcnow()))
            return friendship_view(mine, users.get(request.from_user_id))
        except ConditionFailed:
            request = _mine(caller, request_id)  # a parallel accept won, or the sender cancelled
    if request.status == ACCEPTED:
        edge = store.get_friend(caller.id, request.from_user_id)
        if edge is not None and edge.request_id == request.request_id:
            return friendship_view(edge, users.get(request.from_user_id))
    raise _not_pending(request)


def _not_pending(request: FriendRequest) -> Conflict:
    return Conflict(
        f"This request is no longer pending (it is {request.status}).",
        code="RequestNotPending",
        request_status=request.status,
    )


def decline(caller: Caller, request_id: str) -> None:
    """The addressee declines (again: still 204)."""
    _close(caller, request_id, DECLINED, by_sender=False)


def cancel(caller: Caller, request_id: str) -> None:
    """The sender withdraws the request (again: still 204)."""
    _close(caller, request_id, CANCELLED, by_sender=True)


def _close(caller: Caller, request_id: str, status: str, by_sender: bool) -> None:
    request = _mine(caller, request_id)
    if by_sender and caller.id != request.from_user_id:
        raise Forbidden("Only the sender may cancel a request; decline it instead.", code="NotSender")
    if not by_sender and caller.id != request.to_user_id:
        raise Forbidden("Only the user who received the request may decline it.", code="NotAddressee")
    if request.status == PENDING:
        now = utcnow()
        try:
            store.close(request, status, now, iso(now))
            return
        except ConditionFailed:
            request = _mine(caller, request_id)
    if request.status != status:
        raise _not_pending(request)


# --- friends -------------------------------------------------------------------------------


def list_friends(caller: Caller, limit: int, cursor: str | None) -> tuple[list[Any], str | None]:
    """A page of friends with their public profiles (one Query, one BatchGetItem)."""
    edges = store.list_friends(caller.id, limit, cursor)
    people = users_by_id([e.friend_id for e in edges.items])
    items = [friendship_view(e, people[e.friend_id]) for e in edges.items if e.friend_id in people]
    return items, edges.next_cursor


def unfriend(caller: Caller, user_id: str) -> None:
    """End a friendship: both edges and the pair item in one transaction. Idempotent: 204 also
    when the two are not (or no longer) friends. Their messages stay readable by both."""
    with contextlib.suppress(ConditionFailed):  # not friends: nothing to undo
        store.unfriend(caller.id, user_id)


# --- notifications (activity consumer) -----------------------------------------------------


def request_received(change: Change) -> None:
    request = change.new
    if not isinstance(request, FriendRequest) or request.status != PENDING:
        return
    name = user_domain.display_name(request.from_user_id)
    notify(
        change,
        request.to_user_id,
        "friend_request",
        f"{name} wants to be your friend",
        f"{name} sent you a friend request: accept or decline it in your friend requests.",
        {"request_id": request.request_id, "from_user_id": request.from_user_id},
    )


def request_accepted(change: Change) -> None:
    request = change.new
    if not isinstance(request, FriendRequest) or not status_changed(change, ACCEPTED):
        return
    name = user_domain.display_name(request.to_user_id)
    notify(
        change,
        request.from_user_id,
        "friend_accepted",
        f"{name} accepted your friend request",
        f"You and {name} are now friends.",
        {"request_id": request.request_id, "user_id": request.to_user_id},
    )


# --- a deleted user leaves every friend list and pending request (activity consumer) ---------------


def user_deleted(change: Change) -> None:
    """Start the clean-up of a deleted user's pending requests, then friendships, a page a step."""
    if isinstance(change.old, User):
        fanout.start(change, FORGET_JOB, {"user_id": change.old.user_id}, REQUESTS_PHASE)


@fanout.handler(FORGET_JOB)
def _forget_user(change: Change, step: FanoutStep, size: int) -> Next | None:
    """Requests first: one accepted while the clean-up runs becomes a friendship the next phase
    ends. Every write is conditional, so a redelivered step finds its page done and moves on."""
    user_id = step.params["user_id"]
    if step.phase == REQUESTS_PHASE:
        found = store.pending_requests(user_id, list(DIRECTIONS), size, step.cursor)
        for request in found.items:
            _close_for_deleted(request, user_id)
        return Next(REQUESTS_PHASE, found.next_cursor) if found.next_cursor else Next(FRIENDS_PHASE, None)
    edges = store.list_friends(user_id, size, step.cursor)
    for edge in edges.items:
        with contextlib.suppress(ConditionFailed):  # ended already (a redelivered step, or by the friend)
            store.unfriend(user_id, edge.friend_id)
    return Next(FRIENDS_PHASE, edges.next_cursor) if edges.next_cursor else None


def _close_for_deleted(request: FriendRequest, user_id: str) -> None:
    """A request the deleted user sent is cancelled; one they received is declined (nobody is told)."""
    status = CANCELLED if request.from_user_id == user_id else DECLINED
    now = utcnow()
    with contextlib.suppress(ConditionFailed):  # no longer pending: answered, or closed by an earlier delivery
        store.close(request, status, now, iso(now))


REACTIONS: Reactions = {
    ("friend_request", "INSERT"): [request_received],
    ("friend_request", "MODIFY"): [request_accepted],
    ("user", "REMOVE"): [user_deleted],
}
