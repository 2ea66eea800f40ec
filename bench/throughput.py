"""Purchase throughput over HTTP on DynamoDB Local vs the raw conditional-update
throughput of the same endpoint, measured in one run with the same concurrency:
once with the API in one ``chalice local`` process per core (``make run``'s
default, WORKERS = cores) and once in a single process, for comparison.

The purchase path is the whole system (chalice local, auth, one BatchGetItem,
one TransactWriteItems of section + order + tickets); the raw path is one
UpdateItem with ``remaining >= :n`` on one item, the cheapest write that can
still refuse to oversell.

    python -m bench throughput                   # both, each on a fresh local cloud
    python -m bench.throughput --workers 2 --json  # one measurement, as JSON
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import time
from collections import Counter
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import requests

THREADS = 8
PURCHASES = 400
RAW_UPDATES = 2000


def measure(workers: int) -> dict[str, Any]:
    """Purchases over HTTP, then raw conditional updates, on one fresh local cloud with ``workers``."""
    from bench.load import local_cloud
    from infra.local.cloud import dynamodb_client
    from tests.support import Api

    with local_cloud(table="boxoffice-bench", workers=workers) as cloud:
        session = requests.Session()
        session.mount("http://", requests.adapters.HTTPAdapter(pool_maxsize=THREADS))
        api = Api.over_http(cloud.url, session)
        _, token = api.register()
        capacity = PURCHASES * 2
        sections = [{"code": "GA", "name": "Floor", "price_cents": 1000, "capacity": capacity}]
        event = api.create_event(token, sections=sections, max_tickets_per_order=1)["id"]
        for _ in range(10):  # warm up
            api.buy(token, event, 1)

        def buy(_: int) -> tuple[int, str]:
            r = api.buy(token, event, 1)
            return r.status, r.headers.get("x-boxoffice-worker", "?")

        start = time.perf_counter()
        with ThreadPoolExecutor(THREADS) as pool:
            answers = list(pool.map(buy, range(PURCHASES)))
        purchase_s = time.perf_counter() - start
        statuses = [status for status, _ in answers]
        assert statuses.count(201) == PURCHASES, statuses
        served_by = Counter(worker for _, worker in answers)

        client = dynamodb_client(cloud.dynamodb.endpoint)
        key = {"PK": {"S": "BENCH#raw"}, "SK": {"S": "COUNTER"}}
        client.put_item(TableName=cloud.table, Item={**key, "remaining": {"N": str(RAW_UPDATES * 2)}})

        def update(_: int) -> None:
            client.update_item(
                TableName=cloud.table,
                Key=key,
                UpdateExpression="SET remaining = remaining - :n",
                ConditionExpression="remaining >= :n",
                ExpressionAttributeValues={":n": {"N": "1"}},
            )

        start = time.perf_counter()
        with ThreadPoolExecutor(THREADS) as pool:
            list(pool.map(update, range(RAW_UPDATES)))
        raw_s = time.perf_counter() - start
    return {
        "workers": workers,
        "purchase_s": purchase_s,
        "raw_s": raw_s,
        "served_by": sorted(served_by.values(), reverse=True),
    }


def report(m: dict[str, Any]) -> float:
    purchases_per_s, raw_per_s = PURCHASES / m["purchase_s"], RAW_UPDATES / m["raw_s"]
    ratio = purchases_per_s / raw_per_s
    split = "/".join(str(n) for n in m["served_by"])
    print(f"WORKERS={m['workers']} (purchases per worker: {split})")
    print(f"  purchases over HTTP: {PURCHASES} in {m['purchase_s']:.2f}s = {purchases_per_s:.0f}/s")
    print(f"  raw conditional UpdateItem: {RAW_UPDATES} in {m['raw_s']:.2f}s = {raw_per_s:.0f}/s")
    print(f"  purchase / raw throughput ratio = {ratio:.3f}")
    return purchases_per_s


def in_fresh_interpreter(workers: int) -> dict[str, Any]:
    """One measurement in its own interpreter: a second cloud in this one would meet clients cached
    for the first one's endpoints."""
    out = subprocess.run(
        [sys.executable, "-m", "bench.throughput", "--workers", str(workers), "--json"],
        check=True,
        stdout=subprocess.PIPE,
        text=True,
    ).stdout
    result: dict[str, Any] = json.loads(out.strip().splitlines()[-1])
    return result


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="python -m bench.throughput")
    parser.add_argument("--workers", type=int, help="measure this many API workers only")
    parser.add_argument("--json", action="store_true", help="print the measurement as one JSON line")
    args = parser.parse_args(argv)
    if args.workers is not None:
        m = measure(args.workers)
        print(json.dumps(m)) if args.json else report(m)
        return
    cores = os.cpu_count() or 1
    print(f"endpoint: DynamoDB Local, {THREADS} client threads (one keep-alive connection each), {cores} cores")
    many = report(in_fresh_interpreter(cores))
    if cores == 1:
        return
    one = report(in_fresh_interpreter(1))
    print(f"purchases/s with WORKERS={cores} vs WORKERS=1: {many / one:.2f}x")


if __name__ == "__main__":
    main()
