"""An event's change or cancellation, told to everyone concerned: its ticket holders, then its
followers (everyone who bookmarked it), in bounded fan-out steps.

Each recipient's notification id is derived from the job and the recipient, so a user who holds
tickets and also bookmarked the event, or whom a redelivered step meets again, is told once.
"""

from __future__ import annotations

from typing import Any

from chalicelib.domain import fanout
from chalicelib.domain.fanout import Next
from chalicelib.domain.notifications import notify
from chalicelib.store import bookmarks as bookmark_store
from chalicelib.store import orders as order_store
from chalicelib.store.fanout import FanoutStep
from chalicelib.store.orders import CONFIRMED
from chalicelib.streams.records import Change

KIND = "event_notice"
HOLDERS, FOLLOWERS = "holders", "followers"


def start(change: Change, kind: str, title: str, body: str, data: dict[str, Any], refunded_since: str | None) -> str:
    """Tell holders (confirmed orders, and those refunded since ``refunded_since``) and followers."""
    params = {"kind": kind, "title": title, "body": body, "data": data, "since": refunded_since}
    return fanout.start(change, KIND, params, HOLDERS)


@fanout.handler(KIND)
def step(change: Change, step: FanoutStep, size: int) -> Next | None:
    p = step.params
    event_id = p["data"]["event_id"]
    if step.phase == HOLDERS:
        orders = order_store.list_for_event(event_id, size, step.cursor)
        since = p.get("since")
        _tell(change, step, {o.user_id for o in orders.items if _holds(o.status, o.cancelled_at, since)})
        return Next(HOLDERS, orders.next_cursor) if orders.next_cursor else Next(FOLLOWERS, None)
    marks = bookmark_store.list_followers(event_id, size, step.cursor)
    _tell(change, step, {b.user_id for b in marks.items})
    return Next(FOLLOWERS, marks.next_cursor) if marks.next_cursor else None


def _holds(status: str, cancelled_at: str | None, since: str | None) -> bool:
    return status == CONFIRMED or (since is not None and (cancelled_at or "") >= since)


def _tell(change: Change, step: FanoutStep, users: set[str]) -> None:
    p = step.params
    for user_id in sorted(users):
        notification_id = fanout.recipient_id(step, f"{p['kind']}|{user_id}")
        notify(change, user_id, p["kind"], p["title"], p["body"], p["data"], notification_id=notification_id)
