"""Run every record of a batch through its reactions; report the ones that failed.

Lambda (with ``ReportBatchItemFailures``) retries from the lowest failed
sequence number, so one poison record neither blocks nor redoes the batch:
the records after it that succeeded are delivered again, and every reaction
is idempotent.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterable, Mapping
from typing import Any

from chalicelib.streams.records import Change, PoisonRecord, change_of, kind_of

log = logging.getLogger("boxoffice.streams")

Reaction = Callable[[Change], None]
Reactions = Mapping[tuple[str, str], Iterable[Reaction]]  # (item type, event name) → reactions
# The item type is the discriminator value stored in the item's `type` attribute.


def process(event: dict[str, Any], reactions: Reactions, consumer: str) -> dict[str, Any]:
    failures = []
    for record in event.get("Records", []):
        sequence = (record.get("dynamodb") or {}).get("SequenceNumber", "?")
        try:
            event_name, kind = kind_of(record)
            todo = list(reactions.get((kind or "", event_name), ()))
            if not todo:
                continue  # not an item this consumer reacts to
            change = change_of(record)
            for reaction in todo:
                reaction(change)
        except PoisonRecord as e:
            log.error("%s: poison record %s: %s", consumer, sequence, e)
            failures.append({"itemIdentifier": sequence})
        except Exception:
            log.exception("%s: record %s failed", consumer, sequence)
            failures.append({"itemIdentifier": sequence})
    return {"batchItemFailures": failures}


def status_changed(change: Change, to: str) -> bool:
    old = getattr(change.old, "status", None)
    new = getattr(change.new, "status", None)
    return old != to and new == to
