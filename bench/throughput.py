"""Purchase throughput over HTTP on DynamoDB Local vs the raw conditional-update
throughput of the same endpoint, measured in one run with the same concurrency:
once with the API in one ``chalice local`` process per core (``make run``'s
default, WORKERS = cores) and once in a single process, for comparison.

The purchase path is the whole system (chalice local, auth, one BatchGetItem,
one TransactWriteItems of section + order + tickets); the raw path is one
UpdateItem with ``remaining >= :n`` on one item, the cheapest write that can
still refuse to oversell.

How it is kept fair:
- each phase's client threads run in a process of their own, apart from the
  stream pollers (which run in this one);
- the raw item lives in a table of its own on the same endpoint, made from the
  same definition (indexes, stream), so the stream consumers neither see it
  nor take it for a poison record;
- each phase starts once the consumers have caught up, and the purchases' own
  stream work (invoices) runs during their phase, as it does in ``make run``;
- the phases alternate over ROUNDS rounds and the medians are compared.

A third measurement replays a purchase's own DynamoDB calls (captured from one
purchase made in process against the same table: the token's BatchGetItem,
the purchase's BatchGetItem and its TransactWriteItems, with fresh order and
ticket ids each time) straight from boto3 at the same concurrency. Purchases
over HTTP / that replay is what the API itself costs on top of the DynamoDB
calls it must make: where it is near 1, the endpoint is the ceiling and more
API workers cannot help.

    python -m bench throughput                   # both, each on a fresh local cloud
    python -m bench.throughput --workers 2 --json  # one measurement, as JSON
"""

from __future__ import annotations

import argparse
import json
import multiprocessing
import os
import re
import statistics
import subprocess
import sys
import threading
import time
from collections import Counter
from concurrent.futures import ProcessPoolExecutor, ThreadPoolExecutor
from typing import Any

import requests
from botocore import xform_name

THREADS = 8
PURCHASES = 400
RAW_UPDATES = 2000
RAW_TABLE = "boxoffice-bench-raw"
ROUNDS = 2
ULID = re.compile(r"(?<![0-9A-Z])[0-9A-HJKMNP-TV-Z]{26}(?![0-9A-Z])")


def capture_purchase(api: Any, token: str, event: str) -> list[tuple[str, str]]:
    """One purchase made in process (chalice's test client, this process's settings: the cloud's
    table and endpoint), and the (operation, request body) of every DynamoDB call it made."""
    from chalice.test import Client

    from app import app
    from chalicelib.store.table import Item
    from tests.support import Api

    calls: list[tuple[str, str]] = []
    me = threading.get_ident()  # the stream pollers share this process and its client

    def keep(model: Any, params: dict[str, Any], **_: Any) -> None:
        if threading.get_ident() == me:
            calls.append((model.name, params["body"].decode()))

    hooks = Item._get_connection().connection.client.meta.events
    hooks.register("before-call.dynamodb", keep)
    try:
        with Client(app, stage_name="local") as client:
            assert Api.over_chalice(client).buy(token, event, 1).status == 201
    finally:
        hooks.unregister("before-call.dynamodb", keep)
    return calls


def replayer(client: Any, calls: list[tuple[str, str]]) -> Any:
    """A function that makes the captured calls again; the ids the reads did not name (the order's,
    its tickets', the payment's, the transaction token) are new each time, so every write is new."""
    read_ids = {i for op, body in calls if op != "TransactWriteItems" for i in ULID.findall(body)}
    methods = {op: getattr(client, xform_name(op)) for op, _ in calls}

    def replay(_: int) -> None:
        from chalicelib.domain.ids import new_id

        fresh: dict[str, str] = {}
        for op, body in calls:
            body = ULID.sub(lambda m: m[0] if m[0] in read_ids else fresh.setdefault(m[0], new_id()), body)
            methods[op](**json.loads(body))

    return replay


WARM = 5  # untimed calls each timed client makes first (connections, its own imports)


def client_phase(kind: str, args: dict[str, Any]) -> dict[str, Any]:
    """One timed phase's client, run in a process of its own: in the benchmark's process it would
    share one interpreter (and its lock) with the stream pollers and the scheduler, which then
    decide the pace instead of the endpoint. Returns the seconds taken and what was answered."""
    from infra.local.cloud import dynamodb_client

    if kind == "buy":
        from tests.support import Api

        session = requests.Session()
        session.mount("http://", requests.adapters.HTTPAdapter(pool_maxsize=THREADS))
        api = Api.over_http(args["url"], session)

        def one(_: int) -> Any:
            r = api.buy(args["token"], args["event"], 1)
            return r.status, r.headers.get("x-boxoffice-worker", "?")

        count = PURCHASES
    elif kind == "replay":
        one, count = replayer(dynamodb_client(args["endpoint"]), args["calls"]), PURCHASES
    else:
        client, key = dynamodb_client(args["endpoint"]), args["key"]

        def one(_: int) -> Any:
            return client.update_item(
                TableName=RAW_TABLE,
                Key=key,
                UpdateExpression="SET remaining = remaining - :n",
                ConditionExpression="remaining >= :n",
                ExpressionAttributeValues={":n": {"N": "1"}},
            )

        count = RAW_UPDATES
    with ThreadPoolExecutor(THREADS) as pool:
        list(pool.map(one, range(WARM)))
        start = time.perf_counter()
        answers = list(pool.map(one, range(count)))
        seconds = time.perf_counter() - start
    return {"seconds": seconds, "answers": answers if kind == "buy" else []}


def in_own_process(kind: str, **args: Any) -> dict[str, Any]:
    with ProcessPoolExecutor(1, mp_context=multiprocessing.get_context("spawn")) as pool:
        result: dict[str, Any] = pool.submit(client_phase, kind, args).result()
    return result


def measure(workers: int) -> dict[str, Any]:
    """Purchases over HTTP, a replay of a purchase's DynamoDB calls, then raw conditional updates,
    on one fresh local cloud with ``workers``; each phase starts with the stream consumers idle."""
    from bench.load import local_cloud
    from bench.scale import caught_up
    from chalicelib.store.table import create_table
    from infra.local.cloud import dynamodb_client
    from tests.support import Api

    with local_cloud(table="boxoffice-bench", workers=workers) as cloud:
        api = Api.over_http(cloud.url, requests.Session())
        _, token = api.register()
        capacity = (PURCHASES + WARM) * 2 * ROUNDS + 20  # the purchases, the replays, the warm-ups
        sections = [{"code": "GA", "name": "Floor", "price_cents": 1000, "capacity": capacity}]
        event = api.create_event(token, sections=sections, max_tickets_per_order=1)["id"]
        for _ in range(10):  # warm up the workers
            api.buy(token, event, 1)
        calls = capture_purchase(api, token, event)
        client = dynamodb_client(cloud.dynamodb.endpoint)
        create_table(client, RAW_TABLE)
        key = {"PK": {"S": "BENCH#raw"}, "SK": {"S": "COUNTER"}}
        client.put_item(TableName=RAW_TABLE, Item={**key, "remaining": {"N": str(RAW_UPDATES * 2 * ROUNDS)}})
        phases = {
            "buy": {"url": cloud.url, "token": token, "event": event},
            "replay": {"endpoint": cloud.dynamodb.endpoint, "calls": calls},
            "raw": {"endpoint": cloud.dynamodb.endpoint, "key": key},
        }
        seconds: dict[str, list[float]] = {kind: [] for kind in phases}
        served_by: Counter[str] = Counter()
        for _ in range(ROUNDS):  # alternating, so that a slow spell of the machine weighs on all three
            for kind, args in phases.items():
                caught_up(cloud)
                result = in_own_process(kind, **args)
                seconds[kind].append(result["seconds"])
                if kind == "buy":
                    statuses = [status for status, _ in result["answers"]]
                    assert statuses.count(201) == PURCHASES, statuses
                    served_by.update(worker for _, worker in result["answers"])
    return {
        "workers": workers,
        "purchase_s": statistics.median(seconds["buy"]),
        "raw_s": statistics.median(seconds["raw"]),
        "replay_s": statistics.median(seconds["replay"]),
        "calls": sorted(Counter(op for op, _ in calls).items()),
        "served_by": sorted(served_by.values(), reverse=True),
    }


def report(m: dict[str, Any]) -> float:
    purchases_per_s, raw_per_s = PURCHASES / m["purchase_s"], RAW_UPDATES / m["raw_s"]
    ratio = purchases_per_s / raw_per_s
    split = "/".join(str(n) for n in m["served_by"])
    print(f"WORKERS={m['workers']} (purchases per worker: {split}; medians of {ROUNDS} alternating rounds)")
    print(f"  purchases over HTTP: {PURCHASES} in {m['purchase_s']:.2f}s = {purchases_per_s:.0f}/s")
    print(f"  raw conditional UpdateItem: {RAW_UPDATES} in {m['raw_s']:.2f}s = {raw_per_s:.0f}/s")
    print(f"  purchase / raw throughput ratio = {ratio:.3f}")
    calls = ", ".join(f"{n} {op}" for op, n in m["calls"])
    replay_per_s = PURCHASES / m["replay_s"]
    print(f"  a purchase's own DynamoDB calls ({calls}) replayed from boto3: {replay_per_s:.0f}/s")
    print(f"  purchase / replay of its calls = {purchases_per_s / replay_per_s:.3f}")
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
