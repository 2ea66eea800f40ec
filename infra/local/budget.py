"""DynamoDB's per-partition write limit, simulated: ``make run PARTITION_WCU=100``.

On AWS one partition takes at most 1,000 write capacity units a second, whatever the table's
capacity mode; a hot item (one key) is always in one partition, so past that its writes are
throttled. This budget makes that ceiling visible on one machine, scaled down: each partition
key value (the table's hash key ``PK``) gets ``wcu`` units a second (a token bucket refilled
continuously, holding at most one second's worth). A write costs what DynamoDB charges:

- one unit per KB (rounded up) of the item written, estimated from the request: a PutItem's
  item; an UpdateItem's or DeleteItem's request (the item's own size is not in it, so an
  update of a small item costs 1, as on AWS);
- transactional writes twice that, and a transaction's ConditionCheck like a write
  (DynamoDB: "transactional write requests require 2 WCUs per item");
- a BatchWriteItem per item.

A request whose partitions do not all have the units left is refused whole and costs nothing;
reads are not budgeted. The fault proxy (infra/local/faults.py) answers the refusal as DynamoDB
does: ``ProvisionedThroughputExceededException`` for PutItem, UpdateItem and DeleteItem (botocore
retries it), the throttled items back in ``UnprocessedItems`` for BatchWriteItem, and a
``TransactionCanceledException`` whose throttled items have the reason ``ThrottlingError`` for
TransactWriteItems.
"""

from __future__ import annotations

import json
import math
import threading
import time
from collections.abc import Callable
from typing import Any

HASH_KEY = "PK"
TRANSACTIONAL = 2
KB = 1024
PRUNE_EVERY = 10_000  # requests; full buckets are forgotten then (a new key starts full anyway)


def units(size: int) -> int:
    return max(1, math.ceil(size / KB))


def _size(value: Any) -> int:
    return len(json.dumps(value, separators=(",", ":")))


def _partition(table: str, key_or_item: dict[str, Any]) -> str:
    value = key_or_item.get(HASH_KEY, {})
    return f"{table}/{next(iter(value.values()), '')}" if isinstance(value, dict) and value else f"{table}/?"


def write_costs(operation: str, request: dict[str, Any]) -> list[tuple[str, int]]:
    """Each item a write touches: (partition, units), in request order (BatchWriteItem: in the
    order of ``RequestItems``, table by table)."""
    table = str(request.get("TableName", ""))
    if operation == "PutItem":
        item = request.get("Item", {})
        return [(_partition(table, item), units(_size(item)))]
    if operation in ("UpdateItem", "DeleteItem"):
        return [(_partition(table, request.get("Key", {})), units(_size(request)))]
    if operation == "BatchWriteItem":
        out = []
        for name, writes in request.get("RequestItems", {}).items():
            for w in writes:
                if "PutRequest" in w:
                    item = w["PutRequest"].get("Item", {})
                    out.append((_partition(name, item), units(_size(item))))
                else:
                    out.append((_partition(name, w.get("DeleteRequest", {}).get("Key", {})), 1))
        return out
    if operation == "TransactWriteItems":
        out = []
        for entry in request.get("TransactItems", []):
            kind, op = next(iter(entry.items()))
            name = str(op.get("TableName", ""))
            if kind == "Put":
                item = op.get("Item", {})
                out.append((_partition(name, item), TRANSACTIONAL * units(_size(item))))
            else:
                out.append((_partition(name, op.get("Key", {})), TRANSACTIONAL * units(_size(op))))
        return out
    return []


class PartitionBudget:
    """Write units per partition per second; thread-safe; ``clock`` injectable for tests."""

    def __init__(self, wcu: float, clock: Callable[[], float] = time.monotonic) -> None:
        if wcu <= 0:
            raise ValueError("a partition's write budget must be above 0")
        self.wcu = float(wcu)
        self._clock = clock
        self._buckets: dict[str, tuple[float, float]] = {}  # partition -> (units left, when)
        self._lock = threading.Lock()
        self._requests = 0

    def _level(self, partition: str, now: float) -> float:
        left, when = self._buckets.get(partition, (self.wcu, now))
        return min(self.wcu, left + (now - when) * self.wcu)

    def charge(self, costs: list[tuple[str, int]]) -> list[int]:
        """Charge every item, or none: the indexes of the items over budget ([] = charged).

        A partition may take a request costing more than one second's worth when its bucket is
        full (the bucket then goes into debt), so no single write is refused forever."""
        with self._lock:
            now = self._clock()
            self._requests += 1
            if self._requests % PRUNE_EVERY == 0:
                self._prune(now)
            wanted: dict[str, int] = {}
            for partition, cost in costs:
                wanted[partition] = wanted.get(partition, 0) + cost
            levels = {p: self._level(p, now) for p in wanted}
            over = {p for p, cost in wanted.items() if levels[p] < min(cost, self.wcu)}
            if over:
                return [i for i, (p, _) in enumerate(costs) if p in over]
            for partition, cost in wanted.items():
                self._buckets[partition] = (levels[partition] - cost, now)
            return []

    def _prune(self, now: float) -> None:
        self._buckets = {p: (left, when) for p, (left, when) in self._buckets.items() if self._level(p, now) < self.wcu}


def describe(wcu: float | None) -> str:
    return f"partition budget {wcu:g} WCU/s" if wcu else "no partition budget"
