"""What a recommendations query reads, at 1,000 and at 10,000 places over one city.

On the local cloud (DynamoDB Local, in memory, stream pollers off), places are
spread uniformly over a 30 km x 30 km square around Sydney's centre (loaded with
BatchWriteItem); QUERIES events at random points in the central 20 km x 20 km ask
GET /events/{id}/recommendations?limit=100 through the app in this process
(chalice.test.Client). Every DynamoDB call of the app is counted by botocore hooks:
the calls per request, the items the Queries of the 3x3 cells returned (Count),
and the read capacity DynamoDB Local reports (ReturnConsumedCapacity).

The ratio of items read at 10k to 1k places shows the cost grows with the density
of places around the venue (about linearly), not with the table's size elsewhere.
"""

from __future__ import annotations

import math
import os
import random
import statistics
import time
from collections import Counter
from typing import Any

from bench import app_clients

CENTRE = (-33.87, 151.21)
SIDE_KM, VENUE_SIDE_KM = 30.0, 20.0
SIZES = (1_000, 10_000)
QUERIES = int(os.environ.get("BENCH_RECOMMENDATION_QUERIES", 30))
KINDS = ("restaurant", "transport", "activity")


def random_point(rng: random.Random, side_km: float) -> tuple[float, float]:
    """Uniform in a square of ``side_km`` around CENTRE (small enough for a flat approximation)."""
    dlat = (rng.random() - 0.5) * side_km / 111.195
    dlon = (rng.random() - 0.5) * side_km / (111.195 * math.cos(math.radians(CENTRE[0])))
    return CENTRE[0] + dlat, CENTRE[1] + dlon


READS = {"GetItem", "BatchGetItem", "Query", "Scan", "TransactGetItems"}


class Counts:
    """Every DynamoDB call the app makes: by operation, the items its Queries returned and the read capacity."""

    def __init__(self) -> None:
        self.calls: Counter[str] = Counter()
        self.items = 0
        self.rcu = 0.0

    def clear(self) -> None:
        self.calls.clear()
        self.items, self.rcu = 0, 0.0

    def attach(self) -> None:
        """Hook the client of every model class (a subclass may have a connection of its own)."""
        for client in app_clients():
            client.meta.events.register("before-parameter-build.dynamodb", self.before)
            client.meta.events.register("after-call.dynamodb", self.after)

    def before(self, params: dict[str, Any], model: Any, **_: Any) -> None:
        if model.name in READS:
            params.setdefault("ReturnConsumedCapacity", "TOTAL")

    def after(self, parsed: dict[str, Any], model: Any, **_: Any) -> None:
        self.calls[model.name] += 1
        if model.name == "Query":
            self.items += int(parsed.get("Count", 0))
        consumed = parsed.get("ConsumedCapacity") or []
        for entry in consumed if isinstance(consumed, list) else [consumed]:
            self.rcu += float(entry.get("CapacityUnits", 0))


def load(n: int, rng: random.Random, creator: str) -> float:
    from chalicelib.domain import places
    from chalicelib.store.places import create_many

    started = time.perf_counter()
    batch = []
    for i in range(n):
        lat, lon = random_point(rng, SIDE_KM)
        kind = KINDS[i % 3]
        rating = round(rng.uniform(1, 5), 1)
        batch.append(
            places.build(name=f"Place {i}", kind=kind, lat=lat, lon=lon, rating=rating, url=None, created_by=creator)
        )
    create_many(batch)
    return time.perf_counter() - started


def measure(api: Any, counts: Counts, events: list[str], kind: str | None) -> dict[str, float]:
    items, calls, rcu, returned, ms = [], [], [], [], []
    query = "limit=100" + (f"&kind={kind}" if kind else "")
    for event in events:
        counts.clear()
        started = time.perf_counter()
        r = api.get(f"/events/{event}/recommendations?{query}")
        ms.append((time.perf_counter() - started) * 1000)
        assert r.status == 200, r.body
        items.append(counts.items)
        calls.append(sum(counts.calls.values()))
        rcu.append(counts.rcu)
        returned.append(len(r.body["items"]))
    return {
        "items": statistics.mean(items),
        "calls": statistics.mean(calls),
        "rcu": statistics.mean(rcu),
        "returned": statistics.mean(returned),
        "ms": statistics.median(ms),
    }


def main() -> None:
    from chalice.test import Client

    from app import app
    from bench.load import local_cloud
    from tests.support import Api

    rng = random.Random(8)
    counts = Counts()
    results: dict[tuple[int, str], dict[str, float]] = {}
    with local_cloud(table="boxoffice-bench", streams=False, in_memory=True) as cloud:
        print(f"local cloud ({cloud.backend_name}, in memory), stream pollers off", flush=True)
        with Client(app, stage_name="local") as client:
            api = Api.over_chalice(client)
            user, token = api.register()
            events = []
            for _ in range(QUERIES):
                lat, lon = random_point(rng, VENUE_SIDE_KM)
                venue = {"name": "Bench Hall", "address": "1 Bench St", "lat": lat, "lon": lon}
                events.append(api.create_event(token, venue=venue)["id"])
            counts.attach()
            loaded = 0
            for size in SIZES:
                seconds = load(size - loaded, rng, user["id"])
                loaded = size
                print(f"loaded {size} places ({seconds:.1f} s with BatchWriteItem)", flush=True)
                measure(api, counts, events[:5], None)  # warm-up: the JVM's JIT, connections
                for kind in (None, "restaurant"):
                    results[(size, kind or "all")] = measure(api, counts, events, kind)

    print(
        f"\n{QUERIES} recommendation queries (limit=100) at random venues; "
        f"places over {SIDE_KM:.0f} km x {SIDE_KM:.0f} km"
    )
    print(
        f"{'places':>7} {'kind':10} {'calls':>6} {'items read':>10} {'~RCU':>6} "
        f"{'returned':>8} {'useful':>7} {'ms p50':>7}"
    )
    for (size, kind), r in results.items():
        useful = r["returned"] / r["items"] if r["items"] else 0.0
        print(
            f"{size:>7} {kind:10} {r['calls']:>6.1f} {r['items']:>10.1f} {r['rcu']:>6.1f} "
            f"{r['returned']:>8.1f} {useful:>7.0%} {r['ms']:>7.1f}"
        )
    for kind in ("all", "restaurant"):
        small, big = results[(SIZES[0], kind)], results[(SIZES[1], kind)]
        ratio = big["items"] / small["items"] if small["items"] else float("nan")
        print(
            f"kind={kind}: items read per query {small['items']:.0f} -> {big['items']:.0f} "
            f"(ratio {ratio:.2f} for {SIZES[1] // SIZES[0]}x the places); "
            f"DynamoDB calls per request {big['calls']:.1f} (1 event read + 9 cell Queries; no Scan)"
        )


if __name__ == "__main__":
    main()
