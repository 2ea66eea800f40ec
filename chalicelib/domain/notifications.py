"""Notifications: made by the activity stream handler, read in-app, sent by email."""

from __future__ import annotations

import logging
from typing import Any

from chalicelib.domain import mail
from chalicelib.domain.auth import Caller
from chalicelib.domain.ids import iso, utcnow
from chalicelib.store import notifications as store
from chalicelib.store import users
from chalicelib.store.notifications import Notification
from chalicelib.store.pagination import Page
from chalicelib.streams.records import Change

log = logging.getLogger("boxoffice.notifications")


def notify(
    change: Change,
    user_id: str,
    kind: str,
    title: str,
    body: str,
    data: dict[str, Any],
    *,
    notification_id: str | None = None,
) -> Notification:
    """Store the notification once per (change, user, kind), or once per ``notification_id``
    (a fan-out derives it from its job), and email it once."""
    stored = store.add(
        Notification(
            notification_id=notification_id or change.derived_id(f"{kind}|{user_id}"),
            user_id=user_id,
            kind=kind,
            title=title,
            body=body,
            data=data,
            created_at=iso(change.at),
        )
    )
    if stored.emailed_at is None:
        user = users.get(user_id)
        error = mail.send_or_refused(user.email, title, body) if user is not None else "no such user"
        # Marked after sending: a crash in between sends the mail again (at least once).
        store.mark_emailed(stored, iso(utcnow()), error)
    return stored


def view(n: Notification) -> dict[str, Any]:
    return {
        "id": n.notification_id,
        "kind": n.kind,
        "title": n.title,
        "body": n.body,
        "data": n.data,
        "created_at": n.created_at,
        "read": n.read_at is not None,
        "read_at": n.read_at,
    }


def list_mine(caller: Caller, unread: bool, limit: int, cursor: str | None) -> Page[Notification]:
    return store.list_for(caller.id, unread, limit, cursor)


def mark_read(caller: Caller, notification_id: str) -> Notification:
    return store.mark_read(caller.id, notification_id, iso(utcnow()))
