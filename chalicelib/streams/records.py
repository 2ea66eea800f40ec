"""Turn a stream record into the items it carries, or fail loudly."""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from chalicelib.domain.ids import derived_id, parse_iso

# Every item type must be registered before a record is read: import each store module.
from chalicelib.store import (  # noqa: F401
    bookmarks,
    events,
    fanout,
    friends,
    health,
    holds,
    idempotency,
    invoices,
    messages,
    notifications,
    orders,
    places,
    posts,
    reports,
    search,
    seats,
    tickets,
    users,
    waitlist,
)
from chalicelib.store.table import Item


class PoisonRecord(Exception):
    """The record's image is not an item we can read."""


@dataclass(frozen=True)
class Change:
    event_name: str  # INSERT | MODIFY | REMOVE
    sequence_number: str
    at: datetime
    old: Item | None
    new: Item | None

    @property
    def item(self) -> Item:
        item = self.new if self.new is not None else self.old
        assert item is not None
        return item

    def derived_id(self, purpose: str) -> str:
        """A ULID that sorts by the change's time and is the same on every redelivery."""
        return derived_id(f"{purpose}|{self.item.pk}|{self.item.sk}|{self.sequence_number}", self.at)


def parse_image(image: dict[str, Any] | None) -> Item | None:
    if not image:
        return None
    try:
        item = Item.from_raw_data(image)
        item.serialize(null_check=True)  # every required attribute is there
    except (ValueError, TypeError, KeyError, AttributeError) as e:
        raise PoisonRecord(f"unreadable item {image.get('PK')}/{image.get('SK')}: {e}") from e
    return item


KEYS = {"PK", "SK"}


def kind_of(record: dict[str, Any]) -> tuple[str, str | None]:
    """(event name, item type) from a record's envelope, without parsing the item.

    The type is None for an image that holds nothing but the keys (moto emits
    such an extra INSERT for an UpdateItem that creates an item): nothing to react to.
    """
    try:
        body = record["dynamodb"]
        event_name = record["eventName"]
        image = body.get("NewImage") or body.get("OldImage") or {}
    except (KeyError, TypeError, AttributeError) as e:
        raise PoisonRecord(f"not a DynamoDB stream record: {e}") from e
    if not isinstance(image, dict):
        raise PoisonRecord("the record's image is not a map")
    if set(image) <= KEYS:
        return event_name, None
    kind = (image.get("type") or {}).get("S") if isinstance(image.get("type"), dict) else None
    if kind not in _known_types():
        raise PoisonRecord(f"unknown item type {kind!r} in {image.get('PK')}/{image.get('SK')}")
    return event_name, kind


def _known_types() -> set[str]:
    discriminator = Item._get_discriminator_attribute()
    assert discriminator is not None
    return {str(discriminator.get_discriminator(cls)) for cls in discriminator.get_registered_subclasses(Item)}


def change_of(record: dict[str, Any]) -> Change:
    """A Lambda-shaped DynamoDB stream record → Change (raises PoisonRecord)."""
    try:
        body = record["dynamodb"]
        event_name = record["eventName"]
        sequence = body["SequenceNumber"]
        at = datetime.fromtimestamp(float(body.get("ApproximateCreationDateTime", 0)), UTC)
    except (KeyError, TypeError, ValueError) as e:
        raise PoisonRecord(f"not a DynamoDB stream record: {e}") from e
    old, new = parse_image(body.get("OldImage")), parse_image(body.get("NewImage"))
    if old is None and new is None:
        raise PoisonRecord("record carries no image (is the stream NEW_AND_OLD_IMAGES?)")
    return Change(event_name, sequence, precise(at, new), old, new)


# ApproximateCreationDateTime is rounded down: to the second on AWS, to the minute on DynamoDB Local.
ROUNDING = timedelta(minutes=1)
_INSTANT = re.compile(r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$")


def precise(at: datetime, item: Item | None) -> datetime:
    """The change's time: the record's rounded time, made precise by the latest instant the item
    itself records within the rounding window (``created_at``, ``updated_at``, ``decided_at``…).

    Notifications sort by it: two made in one minute must not come out in a random order.
    """
    if item is None:
        return at
    found = [
        parse_iso(value) for value in item.attribute_values.values() if isinstance(value, str) and _INSTANT.match(value)
    ]
    inside = [t for t in found if at <= t < at + ROUNDING]
    return max(inside, default=at)
