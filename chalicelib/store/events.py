"""Events and their sections: one partition per event, capacity kept per section.

A section keeps ``remaining`` beside ``sold`` and ``held`` because condition
expressions cannot do arithmetic: every change keeps
``sold + held + remaining == capacity``.
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterator
from typing import Any

from pynamodb.attributes import JSONAttribute, NumberAttribute, UnicodeAttribute
from pynamodb.expressions.condition import Condition

from chalicelib.domain.errors import Conflict, NotFound, StaleVersion
from chalicelib.store import keys
from chalicelib.store.table import Item
from chalicelib.store.tx import ConditionFailed, Tx

ON_SALE = "on_sale"
CANCELLED = "cancelled"


class Event(Item, discriminator="event"):
    event_id = UnicodeAttribute()
    organizer_id = UnicodeAttribute()
    title = UnicodeAttribute()
    description = UnicodeAttribute(default="")
    category = UnicodeAttribute()
    starts_at = UnicodeAttribute()
    ends_at = UnicodeAttribute(null=True)
    venue = JSONAttribute()
    image_url = UnicodeAttribute(null=True)
    max_tickets_per_order = NumberAttribute(default=10)
    hold_minutes = NumberAttribute(default=10)
    waitlist_offer_minutes = NumberAttribute(default=30)
    currency = UnicodeAttribute(default="AUD")
    status = UnicodeAttribute(default=ON_SALE)
    version = NumberAttribute(default=1)
    created_at = UnicodeAttribute()
    updated_at = UnicodeAttribute()

    def set_keys(self) -> Event:
        self.pk, self.sk = keys.event(self.event_id)
        self.gsi1pk = keys.events_by_month(self.starts_at[:7])
        self.gsi1sk = keys.event_month_sort(self.starts_at, self.event_id)
        self.gsi2pk = keys.events_by_organizer(self.organizer_id)
        self.gsi2sk = keys.event_month_sort(self.starts_at, self.event_id)
        return self


class Section(Item, discriminator="section"):
    event_id = UnicodeAttribute()
    code = UnicodeAttribute()
    name = UnicodeAttribute()
    price_cents = NumberAttribute()
    currency = UnicodeAttribute()
    kind = UnicodeAttribute()  # "ga" or "reserved"
    capacity = NumberAttribute()
    rows = NumberAttribute(null=True)
    seats_per_row = NumberAttribute(null=True)
    sold = NumberAttribute(default=0)
    held = NumberAttribute(default=0)
    remaining = NumberAttribute()
    revenue_cents = NumberAttribute(default=0)

    def set_keys(self) -> Section:
        self.pk, self.sk = keys.section(self.event_id, self.code)
        return self


def section_ref(event_id: str, code: str) -> Section:
    """A keys-only Section to address in updates."""
    pk, sk = keys.section(event_id, code)
    return Section(pk, sk)


def create(event: Event, sections: list[Section]) -> None:
    # The event id is new (and the sections' keys come from it): a failed condition is our own earlier commit.
    tx = Tx().put("event", event.set_keys(), Event.pk.does_not_exist(), fresh=True)
    for section in sections:
        tx.put(f"section:{section.code}", section.set_keys(), Section.pk.does_not_exist(), fresh=True)
    tx.commit()


def load(event_id: str, consistent: bool = False) -> tuple[Event, list[Section]]:
    """The event and its sections: one Query of the event's partition."""
    event, sections = None, []
    for item in Item.query(keys.event_partition(event_id), consistent_read=consistent):
        if isinstance(item, Event):
            event = item
        elif isinstance(item, Section):
            sections.append(item)
    if event is None:
        raise NotFound("No such event.")
    return event, sections


def load_event(event_id: str) -> Event:
    for item in Item.batch_get([keys.event(event_id)]):
        if isinstance(item, Event):
            return item
    raise NotFound("No such event.")


def save_changes(
    event: Event,
    expected_version: int,
    section_ops: list[tuple[str, Section, list[Any], Condition | None]],
) -> None:
    """Write the edited event and its section changes in one transaction.

    ``section_ops`` are ("put" | "update" | "delete", section, actions, condition).
    """
    tx = Tx().put("event", event.set_keys(), Event.version == expected_version)
    for op, section, actions, condition in section_ops:
        tag = f"section:{section.code}"
        if op == "put":
            tx.put(tag, section.set_keys(), condition)
        elif op == "update":
            tx.update(tag, section_ref(section.event_id, section.code), actions, condition)
        else:
            tx.delete(tag, section_ref(section.event_id, section.code), condition)
    try:
        tx.commit()
    except ConditionFailed as e:
        if "event" in e:
            raise StaleVersion("The event changed meanwhile; read it again and retry.") from e
        tag = next(iter(e.failed))
        code = tag.split(":", 1)[1]
        sold, held = e.old_number(tag, "sold"), e.old_number(tag, "held")
        raise Conflict(
            f"Section {code} has {sold or 0} sold and {held or 0} held: that change would take them away.",
            code="CapacityBelowSold",
            section=code,
            sold=sold,
            held=held,
        ) from e


def cancel(event: Event) -> None:
    tx = Tx().update(
        "event",
        event,
        [Event.status.set(CANCELLED), Event.version.add(1)],
        (Event.status == ON_SALE),
    )
    with contextlib.suppress(ConditionFailed):  # cancelled meanwhile by another request: the same outcome
        tx.commit()


def query_month(
    month: str,
    start_iso: str,
    end_iso: str,
    filter_condition: Condition | None,
    limit: int | None,
    last_key: dict[str, Any] | None,
) -> Iterator[Item]:
    """Events of one month partition between two instants, soonest first."""
    return Item.gsi1.query(
        keys.events_by_month(month),
        Item.gsi1sk.between(*keys.event_month_range(start_iso, end_iso)),
        filter_condition=filter_condition,
        limit=limit,
        last_evaluated_key=last_key,
    )


def organizes_any_event(user_id: str) -> bool:
    """Has this user organized at least one event? One Query of GSI2 ``ORGANIZER#<uid>``, limit 1."""
    for _ in Item.gsi2.query(keys.events_by_organizer(user_id), limit=1):
        return True
    return False


def organizer_event_titles(user_id: str) -> dict[str, str]:
    """Title -> id of the events this user organizes (Query GSI2 ``ORGANIZER#<uid>``): the demo data's reuse check."""
    return {
        item.title: item.event_id
        for item in Item.gsi2.query(keys.events_by_organizer(user_id))
        if isinstance(item, Event)
    }
