"""In-app notifications: one partition per user, newest first.

A notification's id is derived from what caused it (the stream record), so a
redelivered record writes nothing new.
"""

from __future__ import annotations

from typing import Any

from pynamodb.attributes import JSONAttribute, UnicodeAttribute
from pynamodb.exceptions import PutError

from chalicelib.domain.errors import NotFound
from chalicelib.store import keys
from chalicelib.store.pagination import Page, decode_cursor, one_page, page
from chalicelib.store.table import Item, find


class Notification(Item, discriminator="notification"):
    notification_id = UnicodeAttribute()
    user_id = UnicodeAttribute()
    kind = UnicodeAttribute()
    title = UnicodeAttribute()
    body = UnicodeAttribute()
    data = JSONAttribute(default=dict)
    created_at = UnicodeAttribute()
    read_at = UnicodeAttribute(null=True)
    emailed_at = UnicodeAttribute(null=True)
    email_error = UnicodeAttribute(null=True)  # why SES refused it, for good

    def set_keys(self) -> Notification:
        self.pk, self.sk = keys.notification(self.user_id, self.notification_id)
        return self


def add(notification: Notification) -> Notification:
    """Store it unless a notification with the same id exists; return the stored one."""
    try:
        notification.set_keys().save(Notification.pk.does_not_exist())
        return notification
    except PutError as e:
        if e.cause_response_code != "ConditionalCheckFailedException":
            raise
    existing = get(notification.user_id, notification.notification_id)
    assert existing is not None
    return existing


def get(user_id: str, notification_id: str) -> Notification | None:
    return find(Notification, keys.notification(user_id, notification_id))


def mark_emailed(notification: Notification, at: str, error: str | None = None) -> None:
    actions: list[Any] = [Notification.emailed_at.set(at)]
    if error:
        actions.append(Notification.email_error.set(error))
    notification.update(actions=actions)


def mark_read(user_id: str, notification_id: str, at: str) -> Notification:
    found = get(user_id, notification_id)
    if found is None:
        raise NotFound("No such notification.")
    if found.read_at is None:
        # if_not_exists: concurrent reads of the same notification keep the first time, and neither fails.
        found.update(actions=[Notification.read_at.set(Notification.read_at | at)])
    return found


def list_for(user_id: str, unread: bool, limit: int, cursor: str | None) -> Page[Notification]:
    scope = keys.notifications(user_id) + ("#unread" if unread else "")
    start = decode_cursor(cursor, scope)
    results = Item.query(
        keys.notifications(user_id),
        Item.sk.startswith(keys.NOTIFICATION_PREFIX),
        filter_condition=Notification.read_at.does_not_exist() if unread else None,
        scan_index_forward=False,
        limit=None if unread else limit,
        page_size=limit,
        last_evaluated_key=start,
    )
    if unread:
        # Filtering reads `limit` notifications and returns the unread among them: a page
        # may be short (even empty) with a next_cursor, but a request never reads more.
        return one_page(results, Notification, scope)
    return page(results, limit, Notification, scope)
