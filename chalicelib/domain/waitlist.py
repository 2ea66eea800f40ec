"""The waiting list: join a sold-out section; when capacity comes back, the first in line
that it fits gets an exclusive hold for ``waitlist_offer_minutes`` and a notification.

Offers are made by the activity consumer from the section's stream record that
gave capacity back (a cancellation, a released or expired hold, a bigger
capacity). The offered holds' ids are derived from that record, so a record
delivered again finds its offers already made and makes no new ones; what one
record gave back is offered at most once.
"""

from __future__ import annotations

import contextlib
import logging
from typing import Any

from chalicelib.domain import holds, seats
from chalicelib.domain.auth import Caller
from chalicelib.domain.errors import Conflict, DomainError, NotFound
from chalicelib.domain.ids import iso, new_id, utcnow
from chalicelib.store import events as event_store
from chalicelib.store import holds as hold_store
from chalicelib.store import waitlist as store
from chalicelib.store.events import Section, SectionShard
from chalicelib.store.holds import LIVE
from chalicelib.store.tx import ConditionFailed, Tx
from chalicelib.store.waitlist import EXPIRED, OFFERED, WAITING, WaitlistEntry
from chalicelib.streams.records import Change

log = logging.getLogger("boxoffice.waitlist")
MAX_OFFERS_PER_RECORD = 50


def view(entry: WaitlistEntry) -> dict[str, Any]:
    out: dict[str, Any] = {
        "id": entry.entry_id,
        "event_id": entry.event_id,
        "section": entry.section,
        "quantity": int(entry.quantity),
        "status": entry.status,
        "joined_at": entry.joined_at,
        "position": store.position(entry) if entry.status == WAITING else None,
    }
    if entry.status in (OFFERED, EXPIRED):
        out["hold_id"], out["expires_at"] = entry.hold_id, entry.offer_expires_at
    return out


def join(caller: Caller, event_id: str, code: str, quantity: int) -> WaitlistEntry:
    """Wait for a sold-out section (409 while it still has what is asked for, or if waiting already)."""
    event, sections = event_store.load(event_id, consistent=True)
    from chalicelib.domain.orders import check_sale

    sec = next((s for s in sections if s.code == code), None)
    check_sale(event, sec, code, quantity, utcnow(), kind=None)
    assert sec is not None
    if int(sec.remaining) >= quantity:
        raise Conflict(
            f"Section {code} still has {int(sec.remaining)} left: buy instead.",
            code="NotSoldOut",
            remaining=int(sec.remaining),
        )
    if sec.kind == "reserved" and quantity > seats.MAX_GROUP_SEATS:
        raise seats.bad("quantity", f"at most {seats.MAX_GROUP_SEATS} seats")
    entry = WaitlistEntry(
        entry_id=new_id(),
        event_id=event_id,
        user_id=caller.id,
        section=code,
        quantity=quantity,
        status=WAITING,
        joined_at=iso(utcnow()),
    )
    if not store.join(entry):
        raise Conflict("You are already on this event's waiting list.", code="AlreadyWaiting")
    return entry


def mine(caller: Caller, event_id: str) -> WaitlistEntry:
    entry = store.get(event_id, caller.id)
    if entry is None:
        raise NotFound("You are not on this event's waiting list.")
    return entry


def leave(caller: Caller, event_id: str) -> None:
    """Leave the list; an offer not yet paid for is released with it."""
    entry = store.get(event_id, caller.id)
    if entry is None:
        return
    store.leave(entry)
    if entry.status == OFFERED and entry.hold_id:
        with contextlib.suppress(DomainError):  # paid or over meanwhile
            holds.release(caller, entry.hold_id)


def offer_returned_capacity(change: Change) -> None:
    """Activity consumer: a section's ``remaining`` went up; offer it to those waiting."""
    old, new = change.old, change.new
    # Any shard of the section: capacity comes back to the shard it was taken from.
    if not isinstance(old, Section | SectionShard) or not isinstance(new, Section | SectionShard):
        return
    gained = int(new.remaining) - int(old.remaining)
    if gained > 0:
        offer(new.event_id, new.code, gained, change)


def offer(event_id: str, code: str, gained: int, change: Change) -> int:
    """Offer ``gained`` units to the first in line they fit; idempotent per record. How many offers."""
    budget, made, skipped = gained, 0, set()
    for i in range(MAX_OFFERS_PER_RECORD):
        if budget <= 0:
            break
        hold_id = change.derived_id(f"waitlist-offer|{i}")
        try:
            existing = hold_store.get(hold_id)
        except NotFound:
            existing = None
        if existing is not None:  # made by an earlier delivery of this record
            budget -= int(existing.quantity)
            _notify_offer(change, existing.user_id, existing)
            continue
        entry = next(
            (e for e in store.queue(event_id, code) if int(e.quantity) <= budget and e.user_id not in skipped), None
        )
        if entry is None:
            break
        hold = _offer_to(entry, hold_id)
        if hold is None:
            skipped.add(entry.user_id)
            continue
        if hold is False:
            break
        budget -= int(hold.quantity)
        made += 1
        _notify_offer(change, entry.user_id, hold)
    return made


def _offer_to(entry: WaitlistEntry, hold_id: str) -> Any:
    """The offered hold; None to skip this entry (it changed, or the user holds already);
    False when the capacity is gone (bought meanwhile)."""
    event, sections = event_store.load(entry.event_id, consistent=True)
    sec = next((s for s in sections if s.code == entry.section), None)
    if sec is None or event.status != event_store.ON_SALE:
        return False

    def take_entry(tx: Tx, hold: hold_store.Hold) -> None:
        actions = [
            WaitlistEntry.status.set(OFFERED),
            WaitlistEntry.hold_id.set(hold_id),
            WaitlistEntry.offered_at.set(hold.created_at),
            WaitlistEntry.offer_expires_at.set(hold.expires_at),
            WaitlistEntry.gsi1pk.remove(),
            WaitlistEntry.gsi1sk.remove(),
        ]
        condition = (WaitlistEntry.status == WAITING) & (WaitlistEntry.joined_at == entry.joined_at)
        tx.update("entry", entry, actions, condition)

    try:
        return holds.offer(event, sec, entry.user_id, int(entry.quantity), hold_id, take_entry)
    except ConditionFailed as e:
        if "entry" in e or "claim" in e:
            return None
        return False
    except Conflict:  # no seats that fit
        return False


def _notify_offer(change: Change, user_id: str, hold: Any) -> None:
    from chalicelib.domain.notifications import notify

    notify(
        change,
        user_id,
        "waitlist_offer",
        "Tickets are free for you",
        f"{int(hold.quantity)} x section {hold.section} are held for you until {hold.expires_at}: "
        f"pay with hold {hold.hold_id} before then.",
        {"event_id": hold.event_id, "hold_id": hold.hold_id, "expires_at": hold.expires_at},
    )


def offer_ended(change: Change) -> None:
    """Activity consumer: an offered hold ended. Lapsed → the entry is expired (and the capacity,
    given back by the sweeper, is offered to the next in line); paid or released → it is done."""
    old, new = change.old, change.new
    if not isinstance(new, hold_store.Hold) or new.offer_for is None or new.status == LIVE:
        return
    if getattr(old, "status", None) != LIVE:
        return
    store.offer_ended(new.event_id, new.offer_for, new.hold_id, EXPIRED if new.status == hold_store.EXPIRED else None)
