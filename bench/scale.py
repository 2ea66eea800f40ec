"""Purchases/s on the default local cloud (DynamoDB Local) with 1,000 vs 100,000 items in
the table, their stream history included, at 32 client threads, in one run.

The items are notifications (an item type the stream consumers read and pass over),
written with BatchWriteItem straight to the endpoint; the pollers read all of their
stream records before each measurement, as a long-lived `make run` would have.
"""

from __future__ import annotations

import os
import time
import uuid
from pathlib import Path
from typing import Any

from bench.load import Shop, local_cloud

THREADS = 32
PURCHASES = 800
SMALL, LARGE = 1_000, int(os.environ.get("BENCH_ITEMS", "100000"))


def fill(client: Any, table: str, count: int) -> float:
    """Write ``count`` filler items; returns the seconds it took."""
    started = time.perf_counter()
    owner = uuid.uuid4().hex
    for start in range(0, count, 25):
        batch = [_filler(owner, n) for n in range(start, min(count, start + 25))]
        pending: dict[str, Any] = {table: [{"PutRequest": {"Item": item}} for item in batch]}
        while pending:
            pending = client.batch_write_item(RequestItems=pending).get("UnprocessedItems") or {}
    return time.perf_counter() - started


def _filler(owner: str, n: int) -> dict[str, Any]:
    return {
        "PK": {"S": f"NOTIFICATIONS#{owner}"},
        "SK": {"S": f"NOTIF#{n:08d}"},
        "type": {"S": "notification"},
        "notification_id": {"S": f"{owner}-{n}"},
        "user_id": {"S": owner},
        "kind": {"S": "bench_filler"},
        "title": {"S": "Filler"},
        "body": {"S": "x" * 200},
        "created_at": {"S": "2026-01-01T00:00:00Z"},
    }


def caught_up(cloud: Any, timeout: float = 600) -> float:
    """Wait until both pollers have nothing left to read; returns the seconds waited."""
    started = time.perf_counter()
    before = -1
    while time.perf_counter() - started < timeout:
        delivered = sum(p.consumer.delivered for p in cloud.pollers)
        if delivered == before and not any(p.consumer.pending for p in cloud.pollers):
            return time.perf_counter() - started
        before = delivered
        time.sleep(2)
    return time.perf_counter() - started


def _count(client: Any, table: str) -> int:
    total = 0
    for page in client.get_paginator("scan").paginate(TableName=table, Select="COUNT"):
        total += int(page["Count"])
    return total


def rss_mb(pid: int) -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    return 0.0


def main() -> None:
    from infra.local.cloud import dynamodb_client

    in_memory = os.environ.get("BENCH_IN_MEMORY") == "1"
    with local_cloud(in_memory=in_memory) as cloud:
        client = dynamodb_client(cloud.dynamodb.endpoint)
        shop = Shop(cloud.url, THREADS, capacity=PURCHASES * 3)
        fill(client, cloud.table, SMALL - _count(client, cloud.table))
        caught_up(cloud)
        shop.burst(300)  # warm-up: the JVM's JIT, connection pools
        small = shop.burst(PURCHASES)
        items_small = _count(client, cloud.table)
        filled = fill(client, cloud.table, LARGE - items_small)
        waited = caught_up(cloud)
        large = shop.burst(PURCHASES)
        items_large = _count(client, cloud.table)
        java = rss_mb(cloud.dynamodb._proc.pid) if getattr(cloud.dynamodb, "_proc", None) else 0.0
    print(f"local cloud ({cloud.backend_name}, data {cloud.data_location()}), {THREADS} client threads, one GA section")
    print(f"with {items_small:,} items: {small.describe()}")
    print(f"with {items_large:,} items: {large.describe()}")
    print(f"  (filled {LARGE - items_small:,} items in {filled:.0f}s; the pollers caught up in {waited:.0f}s; "
          f"DynamoDB Local's RSS {java:.0f} MB)")  # fmt: skip
    print(f"purchases/s at {items_large:,} items / at {items_small:,} items = {large.rate / small.rate:.2f}")


if __name__ == "__main__":
    os.environ.setdefault("BCRYPT_ROUNDS", "4")
    main()
