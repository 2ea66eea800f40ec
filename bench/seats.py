"""Reserved seating on the local cloud (DynamoDB Local, data on disk), in one run:

1. The seat map's cost: a section of ROWS x PER_ROW seats (5,000) with SOLD of them (500) bought
   through the API, then GET /events/{id}/seats?section=A MAPS times in this process
   (chalice.test.Client on the same DynamoDB Local), every DynamoDB call of the app counted by
   botocore hooks on all of its PynamoDB clients: by operation, with the items each returned
   (Count and ScannedCount of a Query) and the read capacity DynamoDB Local reports (the hook
   asks for it with ReturnConsumedCapacity); latency in process and over HTTP (chalice local).
2. Contended seat purchases: THREADS buyers each buy 1-4 random seats among the WINDOW best
   seats not yet known to be taken (front rows first), as if every buyer's seat map were live:
   every 201 and every 409 SeatTaken (which names the taken seats) updates one view they all
   share, so a 409 is a real race between buyers, not a stale map; until the section is sold
   out or DURATION is up. Then THREADS threads doing PutItem with attribute_not_exists(PK) on
   fresh keys, same endpoint and table, for RAW_SECONDS; and the section is audited: one owner
   per seat, counters that add up, nothing oversold.

The stream pollers are off: they would run the stream handlers in this process, through the
clients the hooks count, and take CPU from the API on this 2-core machine.
"""

from __future__ import annotations

import json
import os
import random
import statistics
import threading
import time
import uuid
from collections import Counter
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import requests

from bench import app_clients
from bench.load import Burst, local_cloud


def knob(name: str, default: int) -> int:
    return int(os.environ.get(name, default))


ROWS, PER_ROW = knob("BENCH_SEATS_ROWS", 50), knob("BENCH_SEATS_PER_ROW", 100)
SOLD = knob("BENCH_SEATS_SOLD", 500)
MAPS = knob("BENCH_SEAT_MAPS", 100)
THREADS = knob("BENCH_THREADS", 16)
CONTENDED_ROWS, CONTENDED_PER_ROW = knob("BENCH_CONTENDED_ROWS", 10), knob("BENCH_CONTENDED_PER_ROW", 50)
WINDOW = knob("BENCH_WINDOW", 40)
DURATION = knob("BENCH_DURATION", 30)
RAW_SECONDS = knob("BENCH_RAW_SECONDS", 10)
READS = {"GetItem", "BatchGetItem", "Query", "Scan", "TransactGetItems"}


class CallLog:
    """Every DynamoDB call made through the app's PynamoDB clients: the operation (a Query named
    by the partition it reads), the items it returned and the read capacity it consumed."""

    def __init__(self) -> None:
        self.calls: Counter[str] = Counter()
        self.items: Counter[str] = Counter()  # Count (items returned) per operation
        self.scanned: Counter[str] = Counter()  # ScannedCount per operation
        self.capacity = 0.0

    def add(self, other: CallLog) -> None:
        self.calls.update(other.calls)
        self.items.update(other.items)
        self.scanned.update(other.scanned)
        self.capacity += other.capacity

    def attach(self) -> int:
        """Hook the client of every model class (a subclass may have a connection of its own); how many."""
        clients = app_clients()
        for client in clients:
            client.meta.events.register("before-parameter-build.dynamodb", self._before)
            client.meta.events.register("after-call.dynamodb", self._after)
        return len(clients)

    def clear(self) -> None:
        for counter in (self.calls, self.items, self.scanned):
            counter.clear()
        self.capacity = 0.0

    def _before(self, params: dict[str, Any], model: Any, context: dict[str, Any], **_: Any) -> None:
        if model.name in READS:
            params.setdefault("ReturnConsumedCapacity", "TOTAL")
        label = model.name
        if model.name == "Query":
            values = [v.get("S", "") for v in (params.get("ExpressionAttributeValues") or {}).values()]
            if any(v.endswith("#SEATS") for v in values):
                label = "Query seats"
            elif any(v.startswith("EVENT#") for v in values):
                label = "Query event"
        context["bench_label"] = label

    def _after(self, parsed: dict[str, Any], model: Any, context: dict[str, Any], **_: Any) -> None:
        label = context.get("bench_label", model.name)
        self.calls[label] += 1
        if "Count" in parsed:
            self.items[label] += int(parsed["Count"])
            self.scanned[label] += int(parsed.get("ScannedCount", 0))
        elif "Responses" in parsed:  # BatchGetItem
            self.items[label] += sum(len(items) for items in parsed["Responses"].values())
        elif "Item" in parsed:
            self.items[label] += 1
        consumed = parsed.get("ConsumedCapacity") or []
        for entry in consumed if isinstance(consumed, list) else [consumed]:
            self.capacity += float(entry.get("CapacityUnits", 0))


def http_api(url: str, pool: int) -> Any:
    from tests.support import Api

    session = requests.Session()
    session.mount("http://", requests.adapters.HTTPAdapter(pool_maxsize=pool))
    return Api.over_http(url, session)


def reserved_event(api: Any, token: str, code: str, rows: int, per_row: int) -> str:
    section = {"code": code, "name": "Stalls", "price_cents": 1000, "rows": rows, "seats_per_row": per_row}
    return str(api.create_event(token, sections=[section], max_tickets_per_order=10)["id"])


def buy(api: Any, token: str, event: str, seats: list[str]) -> Any:
    return api.post(f"/events/{event}/orders", {"seats": seats}, token=token)


def timings(latencies: list[float]) -> str:
    ordered = Burst(len(latencies), sum(latencies), latencies, {})
    return f"p50 {statistics.median(latencies) * 1000:.1f} ms, p99 {ordered.percentile(99) * 1000:.1f} ms"


# --- 1. the seat map's cost ----------------------------------------------------------------


def seat_map_cost(cloud: Any, api: Any, organizer: str, buyers: list[str]) -> None:
    from chalice.test import Client

    from app import app

    event = reserved_event(api, organizer, "A", ROWS, PER_ROW)
    positions = random.Random(1).sample([(r, n) for r in range(1, ROWS + 1) for n in range(1, PER_ROW + 1)], SOLD)
    seats = [f"A-{r}-{n}" for r, n in positions]
    orders = [seats[i : i + 10] for i in range(0, len(seats), 10)]

    def buy_order(i: int) -> Any:
        return buy(api, buyers[i % len(buyers)], event, orders[i])

    started = time.perf_counter()
    with ThreadPoolExecutor(THREADS) as pool:
        statuses = [r.status for r in pool.map(buy_order, range(len(orders)))]
    assert statuses == [201] * len(orders), Counter(statuses)
    sold_s = time.perf_counter() - started

    path = f"/events/{event}/seats?section=A"
    log = CallLog()
    with Client(app, stage_name="local") as client:
        clients = log.attach()
        for _ in range(5):  # warm-up: imports, connections, the JVM
            client.http.get(path)
        per_request: list[Counter[str]] = []
        in_process: list[float] = []
        totals = CallLog()
        for _ in range(MAPS):
            log.clear()
            t0 = time.perf_counter()
            r = client.http.get(path)
            in_process.append(time.perf_counter() - t0)
            assert r.status_code == 200, r.body
            per_request.append(log.calls.copy())
            totals.add(log)
        body = json.loads(r.body)
    session = requests.Session()
    over_http: list[float] = []
    for i in range(MAPS + 5):
        t0 = time.perf_counter()
        reply = session.get(cloud.url + path, timeout=60)
        if i >= 5:
            over_http.append(time.perf_counter() - t0)
        assert reply.status_code == 200, reply.text

    def per_map(counter: Counter[str]) -> dict[str, float]:
        return {k: round(v / MAPS, 2) for k, v in sorted(counter.items())}

    seat_queries = totals.calls["Query seats"] / MAPS
    seat_items = totals.items["Query seats"] / MAPS
    same = all(c == per_request[0] for c in per_request)
    print(f"seat map: section A, {ROWS} rows x {PER_ROW} = {ROWS * PER_ROW:,} seats, {SOLD} sold "
          f"(in {len(orders)} orders of up to 10 seats, {THREADS} threads, {sold_s:.1f}s); "
          f"{MAPS} requests, counts {body['counts']}")  # fmt: skip
    alike = "the same for every request" if same else "mean: requests differed"
    print(f"  DynamoDB calls per seat map ({clients} PynamoDB client(s) hooked; {alike}): "
          f"{json.dumps(per_map(totals.calls))}")  # fmt: skip
    print(f"  items returned per seat map (Count): {json.dumps(per_map(totals.items))}; "
          f"items scanned (ScannedCount): {json.dumps(per_map(totals.scanned))}; "
          f"read capacity {totals.capacity / MAPS:.1f} RCU")  # fmt: skip
    print(f"  target: 1 Query of seats; items read = taken seats ({SOLD}) -> Query of seats {seat_queries:.2f} "
          f"(ratio {seat_queries / 1:.2f}), items read {seat_items:.0f} (ratio {seat_items / SOLD:.2f}); "
          f"plus {totals.calls['Query event'] / MAPS:.2f} Query of the event partition "
          f"({totals.items['Query event'] / MAPS:.0f} items)")  # fmt: skip
    print(f"  latency in process (chalice.test.Client): {timings(in_process)}; "
          f"over HTTP (chalice local, {len(reply.content) / 1024:.0f} KB): {timings(over_http)}")  # fmt: skip


# --- 2. contended seat purchases vs raw conditional puts -------------------------------------


def contended(cloud: Any, api: Any, organizer: str, buyers: list[tuple[str, str]]) -> bool:
    code = "B"
    event = reserved_event(api, organizer, code, CONTENDED_ROWS, CONTENDED_PER_ROW)
    best_first = [f"{code}-{r}-{n}" for r in range(1, CONTENDED_ROWS + 1) for n in range(1, CONTENDED_PER_ROW + 1)]
    lock = threading.Lock()
    latencies: list[float] = []
    statuses: Counter[int] = Counter()
    codes: Counter[str] = Counter()
    sold: list[tuple[str, str, list[str]]] = []  # (order id, buyer id, seats) of every 201
    deadline = time.perf_counter() + DURATION

    gone: set[str] = set()  # the buyers' shared view: seats known to be taken

    def buyer(index: int) -> None:
        user_id, token = buyers[index]
        rng = random.Random(index)
        while time.perf_counter() < deadline:
            with lock:
                window = [s for s in best_first if s not in gone][:WINDOW]
            if not window:
                return  # sold out
            chosen = rng.sample(window, min(len(window), rng.randint(1, 4)))
            t0 = time.perf_counter()
            r = buy(api, token, event, chosen)
            elapsed = time.perf_counter() - t0
            with lock:
                latencies.append(elapsed)
                statuses[r.status] += 1
                if r.status == 201:
                    sold.append((r.body["id"], user_id, list(r.body["seats"])))
                    gone.update(chosen)
                elif isinstance(r.body, dict):
                    codes[str(r.body.get("code"))] += 1
                    if r.body.get("code") == "SeatTaken":
                        gone.update(r.body["seats"])

    started = time.perf_counter()
    threads = [threading.Thread(target=buyer, args=(i,)) for i in range(THREADS)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    purchase_s = time.perf_counter() - started
    purchases = Burst(len(sold), purchase_s, latencies, dict(statuses))
    attempts = len(latencies)

    raw_puts, raw_s = raw_conditional_puts(cloud)
    seats_sold = sum(len(s) for _, _, s in sold)
    capacity = CONTENDED_ROWS * CONTENDED_PER_ROW
    ended = "sold out" if seats_sold == capacity else "time up"
    print(f"contended purchases: section {code}, {capacity} seats, {THREADS} buyers, each 1-4 random seats "
          f"among the {WINDOW} best not known taken (a shared live view); {ended} after {purchase_s:.1f}s "
          f"({seats_sold} seats sold)")  # fmt: skip
    print(f"  {purchases.describe()}; refusals {dict(sorted(codes.items()))}")
    print(f"  attempts {attempts} = {attempts / purchase_s:.1f}/s; 409 share "
          f"{statuses[409] / max(1, attempts):.1%}; seats sold {seats_sold / purchase_s:.1f}/s")  # fmt: skip
    print(f"  raw conditional PutItem (attribute_not_exists(PK), fresh keys), {THREADS} threads: "
          f"{raw_puts} in {raw_s:.1f}s = {raw_puts / raw_s:.0f}/s")  # fmt: skip
    print(f"  successful purchases/s / raw puts/s = {purchases.rate / (raw_puts / raw_s):.3f}; "
          f"attempts/s / raw puts/s = {attempts / purchase_s / (raw_puts / raw_s):.3f}")  # fmt: skip
    return audit(event, code, sold)


def raw_conditional_puts(cloud: Any) -> tuple[int, float]:
    import boto3
    from botocore.config import Config

    client = boto3.client(
        "dynamodb", endpoint_url=cloud.dynamodb.endpoint, config=Config(max_pool_connections=THREADS + 4)
    )
    done = [0] * THREADS
    deadline = time.perf_counter() + RAW_SECONDS

    def putter(index: int) -> None:
        while time.perf_counter() < deadline:
            client.put_item(
                TableName=cloud.table,
                Item={"PK": {"S": f"BENCH#raw#{uuid.uuid4().hex}"}, "SK": {"S": "PUT"}},
                ConditionExpression="attribute_not_exists(PK)",
            )
            done[index] += 1

    started = time.perf_counter()
    with ThreadPoolExecutor(THREADS) as pool:
        list(pool.map(putter, range(THREADS)))
    return sum(done), time.perf_counter() - started


def audit(event: str, code: str, sold: list[tuple[str, str, list[str]]]) -> bool:
    """Every seat item has one owner, the one its 201 named; the counters add up; nothing oversold."""
    from chalicelib.store import events as event_store
    from chalicelib.store import seats as seat_store

    told: dict[str, list[tuple[str, str]]] = {}
    for order_id, user_id, seats in sold:
        for seat in seats:
            told.setdefault(seat, []).append((order_id, user_id))
    items = seat_store.taken_in_section(event, code, consistent=True)
    sold_items = [s for s in items if s.status == seat_store.SOLD]
    twice = sorted(seat for seat, owners in told.items() if len(owners) > 1)
    wrong_owner = sorted(s.seat_id for s in sold_items if told.get(s.seat_id, [None])[0] != (s.order_id, s.owner_id))
    untold = sorted(set(told) - {s.seat_id for s in sold_items})
    _, sections = event_store.load(event, consistent=True)
    sec = next(s for s in sections if s.code == code)
    capacity, n_sold, held, remaining = (int(x) for x in (sec.capacity, sec.sold, sec.held, sec.remaining))
    oversold = len(twice) + max(0, len(sold_items) - capacity)
    adds_up = n_sold + held + remaining == capacity
    checks = {
        "every seat item has one owner (the order its 201 named)": not wrong_owner and not twice,
        "every seat a 201 named is a sold seat item": not untold,
        f"sold + held + remaining == capacity ({n_sold} + {held} + {remaining} == {capacity})": adds_up,
        f"sold == sold seat items ({n_sold} == {len(sold_items)})": n_sold == len(sold_items),
        f"oversold = {oversold}": oversold == 0,
    }
    for name, good in checks.items():
        print(f"  audit: {name}: {'ok' if good else 'WRONG'}")
    if not all(checks.values()):
        print(f"  seats sold twice {twice[:10]}, wrong owner {wrong_owner[:10]}, 201 but no item {untold[:10]}")
    return all(checks.values())


def main() -> int:
    with local_cloud(table="boxoffice-bench", streams=False) as cloud:
        api = http_api(cloud.url, THREADS + 4)
        _, organizer = api.register()
        buyers = [api.register() for _ in range(THREADS)]
        print(f"local cloud ({cloud.backend_name}, data {cloud.data_location()}), stream pollers off")
        seat_map_cost(cloud, api, organizer, [token for _, token in buyers])
        ok = contended(cloud, api, organizer, [(user["id"], token) for user, token in buyers])
    return 0 if ok else 1


if __name__ == "__main__":
    os.environ.setdefault("BCRYPT_ROUNDS", "4")
    raise SystemExit(main())
