"""A flash sale on one section, with DynamoDB's per-partition write limit simulated at a scaled
budget: K = 1, 4 and 16 shards, the same buyers, the same budget, one run.

    python -m bench flash_sale [--wcu 4] [--buyers 32] [--seconds 15] [--capacity 5000]

The local cloud runs as `make run PARTITION_WCU=<wcu> WORKERS=<cores>` does: every write goes
through the fault proxy, which refuses a partition's writes past ``wcu`` write units a second the
way DynamoDB does (a transaction's items cost double). Buyers each buy one ticket at a time as fast
as they are answered; a 503 ``Busy`` is retried after a short jittered pause, as a client honouring
``Retry-After`` on a smaller scale would. Each K gets a fresh event with one section of
``capacity`` tickets and the same time budget.

Printed per K: sales per second, p50/p99 latency of the sales, answers by status, oversold (sold
beyond capacity, must be 0) and false sold-outs (a "sold out" answered before a later sale of the
same section, while tickets remained: must be 0); then the ratio K=16 / K=1.
"""

from __future__ import annotations

import argparse
import os
import random
import statistics
import threading
import time
from dataclasses import dataclass, field
from typing import Any

import requests

SHARDS = (1, 4, 16)


@dataclass
class Outcome:
    shards: int
    capacity: int
    sales: list[tuple[float, float]] = field(default_factory=list)  # (start, end) of each 201
    sold_outs: list[float] = field(default_factory=list)  # when each "sold out" was answered
    statuses: dict[int, int] = field(default_factory=dict)
    seconds: float = 0.0
    section: dict[str, Any] = field(default_factory=dict)

    @property
    def rate(self) -> float:
        return len(self.sales) / self.seconds if self.seconds else 0.0

    def latency_ms(self, q: float) -> float:
        ordered = sorted(end - start for start, end in self.sales)
        if not ordered:
            return 0.0
        return 1000 * ordered[min(len(ordered) - 1, int(q * len(ordered)))]

    @property
    def oversold(self) -> int:
        return max(0, int(self.section["sold"]) - self.capacity)

    @property
    def false_sold_outs(self) -> int:
        """A "sold out" answered before some sale began was false: that sale found a ticket."""
        last_start = max((start for start, _ in self.sales), default=0.0)
        return sum(1 for at in self.sold_outs if at < last_start)

    def describe(self) -> str:
        p50 = statistics.median([1000 * (e - s) for s, e in self.sales]) if self.sales else 0.0
        return (
            f"K={self.shards:>2}: {len(self.sales)} sold in {self.seconds:.1f}s = {self.rate:.1f} sales/s; "
            f"p50 {p50:.0f} ms, p99 {self.latency_ms(0.99):.0f} ms; answers {dict(sorted(self.statuses.items()))}; "
            f"section sold {self.section['sold']} remaining {self.section['remaining']}; "
            f"oversold {self.oversold}; false sold-outs {self.false_sold_outs}"
        )


def sale(url: str, tokens: list[str], organizer: str, shards: int, capacity: int, seconds: float) -> Outcome:
    from tests.support import Api

    session = requests.Session()
    session.mount("http://", requests.adapters.HTTPAdapter(pool_maxsize=len(tokens) + 4))
    api = Api.over_http(url, session)
    section = {"code": "GA", "name": "Floor", "price_cents": 1000, "capacity": capacity, "shards": shards}
    event = api.create_event(organizer, sections=[section], max_tickets_per_order=1)["id"]
    out = Outcome(shards, capacity)
    lock = threading.Lock()
    sold_out = threading.Event()
    start_line = threading.Barrier(len(tokens) + 1)
    deadline = [0.0]

    def buyer(token: str, seed: int) -> None:
        rng = random.Random(seed)
        start_line.wait()
        while time.monotonic() < deadline[0] and not sold_out.is_set():
            began = time.monotonic()
            r = api.buy(token, event, 1)
            ended = time.monotonic()
            with lock:
                out.statuses[r.status] = out.statuses.get(r.status, 0) + 1
                if r.status == 201:
                    out.sales.append((began, ended))
                elif r.status == 409 and r.body.get("code") == "SoldOut":
                    out.sold_outs.append(ended)
            if r.status == 409:
                sold_out.set()
            elif r.status == 503:
                time.sleep(rng.uniform(0.01, 0.05))  # Retry-After, scaled down like the budget

    threads = [threading.Thread(target=buyer, args=(t, i), daemon=True) for i, t in enumerate(tokens)]
    for t in threads:
        t.start()
    started = time.monotonic()
    deadline[0] = started + seconds
    start_line.wait()
    for t in threads:
        t.join()
    last = max((end for _, end in out.sales), default=started)
    out.seconds = (last if sold_out.is_set() else time.monotonic()) - started
    out.section = api.get(f"/events/{event}").body["sections"][0]
    return out


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="python -m bench flash_sale", description=__doc__)
    parser.add_argument("--wcu", type=float, default=4, help="write units per partition per second (AWS: 1000)")
    parser.add_argument("--buyers", type=int, default=32)
    parser.add_argument("--seconds", type=float, default=15)
    parser.add_argument("--capacity", type=int, default=5000)
    parser.add_argument("--workers", type=int, default=os.cpu_count() or 1)
    args = parser.parse_args(argv)

    from bench.load import local_cloud
    from tests.support import Api

    with local_cloud(table="boxoffice-flash", workers=args.workers, partition_wcu=args.wcu, streams=False) as cloud:
        print(
            f"local cloud: {args.workers} API workers, partition budget {args.wcu:g} WCU/s, "
            f"{args.buyers} buyers, {args.seconds:g}s per sale, section of {args.capacity}",
            flush=True,
        )
        api = Api.over_http(cloud.url, requests.Session())
        _, organizer = api.register()
        tokens = [api.register()[1] for _ in range(args.buyers)]
        outcomes = []
        for shards in SHARDS:
            outcome = sale(cloud.url, tokens, organizer, shards, args.capacity, args.seconds)
            print(outcome.describe(), flush=True)
            outcomes.append(outcome)
    one, most = outcomes[0], outcomes[-1]
    ceiling = args.wcu / 2  # one transactional write of a ≤1 KB item: 2 WCU
    print(f"one item's ceiling at this budget: {args.wcu:g} / 2 = {ceiling:g} sales/s")
    for o in outcomes:
        print(f"K={o.shards:>2}: {o.rate / ceiling:.2f} x one item's ceiling")
    print(f"flash sale ratio K={most.shards} / K={one.shards} = {most.rate / one.rate:.2f}" if one.rate else "no sales")
    print(f"oversold {sum(o.oversold for o in outcomes)}, false sold-outs {sum(o.false_sold_outs for o in outcomes)}")


if __name__ == "__main__":
    main()
