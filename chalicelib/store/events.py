"""Events and their sections: one partition per event, capacity kept per section.

A section keeps ``remaining`` beside ``sold`` and ``held`` because condition
expressions cannot do arithmetic: every change keeps
``sold + held + remaining == capacity``.

A hot section's counters are spread over K shards (``Section.shards``): shard 0
is the section item itself, shards 1..K-1 are ``SectionShard`` items, each in a
partition of its own (DynamoDB's write budget is per partition: about 1,000
WCU a second, 500 transactional sales). Every capacity move names the shards
it touches (a ``Plan``: ``[(shard, units), ...]``), conditionally on each, and
the order or hold that moved it keeps its plan, so a cancellation or a release
gives back exactly where it took. The invariant then holds summed over the
shards; reads (``load``) show one section with the sums.
"""

from __future__ import annotations

import contextlib
import random
from collections.abc import Iterator, Sequence
from typing import Any

from pynamodb.attributes import JSONAttribute, NumberAttribute, UnicodeAttribute
from pynamodb.expressions.condition import Condition

from chalicelib.domain.errors import Conflict, NotFound, StaleVersion
from chalicelib.store import batch, keys
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
    # Shard 0's counters (the whole section's when it has one shard); ``load`` shows the sums.
    sold = NumberAttribute(default=0)
    held = NumberAttribute(default=0)
    remaining = NumberAttribute()
    revenue_cents = NumberAttribute(default=0)
    shards = NumberAttribute(default=1)  # K; sections written before sharding have none: 1
    closed = UnicodeAttribute(null=True)  # its event was cancelled (when): general-admission sales stop

    # Not stored: each shard's remaining as read, [(shard, remaining)], filled by ``with_shards``.
    shard_remaining: list[tuple[int, int]]

    def set_keys(self) -> Section:
        self.pk, self.sk = keys.section(self.event_id, self.code)
        return self

    @property
    def shard_count(self) -> int:
        return int(self.shards or 1)

    def plan_for(self, units: int, rng: random.Random | None = None) -> Plan | None:
        """Where to take ``units`` from, as last read (None: not enough left in all shards)."""
        counts = getattr(self, "shard_remaining", None) or [(0, int(self.remaining))]
        return choose(counts, units, rng)


class SectionShard(Item, discriminator="section_shard"):
    """Shard ``index`` ≥ 1 of a section's counters; its key is a partition of its own."""

    event_id = UnicodeAttribute()
    code = UnicodeAttribute()
    index = NumberAttribute()
    sold = NumberAttribute(default=0)
    held = NumberAttribute(default=0)
    remaining = NumberAttribute()
    revenue_cents = NumberAttribute(default=0)
    closed = UnicodeAttribute(null=True)


Plan = list[tuple[int, int]]  # [(shard, units)]: where a capacity move takes or gives back
MAX_SHARDS = 32
COUNTERS = ("sold", "held", "remaining", "revenue_cents")


def choose(counts: Sequence[tuple[int, int]], units: int, rng: random.Random | None = None) -> Plan | None:
    """One shard at random among those with ``units`` left; else the fullest shards together (one
    transaction over several); None when all of them together have less."""
    able = [shard for shard, left in counts if left >= units]
    if able:
        return [((rng or random).choice(able), units)]
    plan: Plan = []
    need = units
    for shard, left in sorted(counts, key=lambda c: -c[1]):
        if need <= 0 or left <= 0:
            break
        take = min(left, need)
        plan.append((shard, take))
        need -= take
    return plan if need <= 0 else None


def first_units(plan: Plan, units: int) -> Plan:
    """The first ``units`` of a plan (a hold paid or given back in part)."""
    out: Plan = []
    for shard, n in plan:
        if units <= 0:
            break
        out.append((shard, min(n, units)))
        units -= min(n, units)
    return out


def split(capacity: int, shards: int) -> list[int]:
    """A capacity over ``shards`` shares as equal as can be (shard 0 takes the remainder)."""
    base, extra = divmod(capacity, shards)
    return [base + extra, *([base] * (shards - 1))]


def shard_ref(event_id: str, code: str, index: int) -> Item:
    """A keys-only shard to address in updates: the section item for shard 0."""
    if index == 0:
        return section_ref(event_id, code)
    pk, sk = keys.section_shard(event_id, code, index)
    return SectionShard(pk, sk)


def new_shards(section: Section) -> list[SectionShard]:
    """Shards 1..K-1 of a new section, its capacity split among them and shard 0 (the section)."""
    shares = split(int(section.capacity), section.shard_count)
    section.remaining = shares[0]
    out = []
    for index, share in enumerate(shares[1:], start=1):
        pk, sk = keys.section_shard(section.event_id, section.code, index)
        out.append(SectionShard(pk, sk, event_id=section.event_id, code=section.code, index=index, remaining=share))
    return out


def move(
    tx: Tx, event_id: str, code: str, plan: Plan, source: str, target: str, unit_cents: int = 0, open_only: bool = False
) -> None:
    """Move units between two counters (``remaining``, ``held``, ``sold``) on each shard of a plan,
    each conditional on its source counter; revenue follows what is sold (or unsold). ``open_only``:
    and on the shard not being closed (a sharded sale checks that instead of the event item, which
    would put every sale of every shard back on the event's one partition)."""
    for index, units in plan:
        if units <= 0:
            continue
        attrs = SectionShard if index else Section
        source_attr, target_attr = getattr(attrs, source), getattr(attrs, target)
        actions = [source_attr.add(-units), target_attr.add(units)]
        if unit_cents and "sold" in (source, target):
            sign = 1 if target == "sold" else -1
            actions.append(attrs.revenue_cents.add(sign * units * unit_cents))
        condition = source_attr >= units
        if open_only:
            condition = condition & attrs.closed.does_not_exist()
        tx.update("section", shard_ref(event_id, code, index), actions, condition)


def section_ref(event_id: str, code: str) -> Section:
    """A keys-only Section to address in updates."""
    pk, sk = keys.section(event_id, code)
    return Section(pk, sk)


def create(event: Event, sections: list[Section]) -> None:
    # The event id is new (and the sections' keys come from it): a failed condition is our own earlier commit.
    tx = Tx().put("event", event.set_keys(), Event.pk.does_not_exist(), fresh=True)
    for section in sections:
        shards = new_shards(section)
        tx.put(f"section:{section.code}", section.set_keys(), Section.pk.does_not_exist(), fresh=True)
        for shard in shards:
            tx.put(f"shard:{section.code}", shard, SectionShard.pk.does_not_exist(), fresh=True)
    tx.commit()
    for section in sections:
        section.remaining = section.capacity


def load(event_id: str, consistent: bool = False) -> tuple[Event, list[Section]]:
    """The event and its sections: one Query of the event's partition (and one BatchGetItem of the
    shards of any sharded section), each section showing its sums over its shards. In a stream
    batch, an eventually consistent load is made once per event (store/batch.py)."""
    memo = batch.memo() if not consistent else None
    if memo is not None:
        if ("event", event_id) not in memo:
            memo[("event", event_id)] = _load(event_id, consistent)
        loaded: tuple[Event, list[Section]] = memo[("event", event_id)]
        return loaded
    return _load(event_id, consistent)


def _load(event_id: str, consistent: bool) -> tuple[Event, list[Section]]:
    event, sections = None, []
    for item in Item.query(keys.event_partition(event_id), consistent_read=consistent):
        if isinstance(item, Event):
            event = item
        elif isinstance(item, Section):
            sections.append(item)
    if event is None:
        raise NotFound("No such event.")
    return event, with_shards(sections, consistent)


def with_shards(sections: list[Section], consistent: bool = True) -> list[Section]:
    """The sections with their shards' counters added in (read in one BatchGetItem), and
    ``shard_remaining`` set: what each shard had left as read."""
    wanted = [keys.section_shard(s.event_id, s.code, index) for s in sections for index in range(1, s.shard_count)]
    found: dict[tuple[str, str], SectionShard] = {}
    if wanted:
        for item in Item.batch_get(wanted, consistent_read=consistent):
            if isinstance(item, SectionShard):
                found[(str(item.code), str(int(item.index)))] = item
    for s in sections:
        counts = [(0, int(s.remaining))]
        for index in range(1, s.shard_count):
            shard = found.get((str(s.code), str(index)))
            if shard is None:  # written meanwhile by the event's creation: not there yet means empty
                continue
            counts.append((index, int(shard.remaining)))
            for name in COUNTERS:
                setattr(s, name, int(getattr(s, name) or 0) + int(getattr(shard, name) or 0))
        s.shard_remaining = counts
    return sections


def load_event(event_id: str) -> Event:
    memo = batch.memo()
    if memo is not None:
        return load(event_id)[0]
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
            shards = new_shards(section)
            tx.put(tag, section.set_keys(), condition)
            for shard in shards:
                tx.put(f"shard:{section.code}", shard, SectionShard.pk.does_not_exist())
        elif op == "update":
            tx.update(tag, section_ref(section.event_id, section.code), actions, condition)
        else:
            tx.delete(tag, section_ref(section.event_id, section.code), condition)
            for index in range(1, section.shard_count):  # a section goes only with nothing sold or held
                ref = shard_ref(section.event_id, section.code, index)
                tx.delete(tag, ref, (SectionShard.sold == 0) & (SectionShard.held == 0))
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


def cancel(event: Event, sections: list[Section], at: str) -> None:
    """The event cancelled, and its sections' items (every shard) closed, in one transaction: a
    general-admission sale checks its shards are open rather than the event item, which would put
    every sale of every shard on the event's one partition. Past 100 items, the rest are closed by
    further transactions (a sale in between still meets the cancelled event in its read)."""
    refs = [shard_ref(s.event_id, s.code, index) for s in sections for index in range(s.shard_count)]
    tx = Tx().update("event", event, [Event.status.set(CANCELLED), Event.version.add(1)], (Event.status == ON_SALE))
    first, rest = refs[:99], refs[99:]
    for ref in first:
        tx.update("section", ref, [Section.closed.set(at)], Section.pk.exists())
    with contextlib.suppress(ConditionFailed):  # cancelled meanwhile by another request: the same outcome
        tx.commit()
    for start in range(0, len(rest), 100):
        more = Tx()
        for ref in rest[start : start + 100]:
            more.update("section", ref, [Section.closed.set(at)], Section.pk.exists())
        more.commit()


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
