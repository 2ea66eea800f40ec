"""Shared by the benchmarks: a local cloud in this process, buyers, and timed purchase bursts."""

from __future__ import annotations

import os
import statistics
import tempfile
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import requests


@dataclass
class Burst:
    purchases: int
    seconds: float
    latencies: list[float]
    statuses: dict[int, int]

    @classmethod
    def merge(cls, bursts: list[Burst]) -> Burst:
        statuses: dict[int, int] = {}
        for b in bursts:
            for status, n in b.statuses.items():
                statuses[status] = statuses.get(status, 0) + n
        latencies = [t for b in bursts for t in b.latencies]
        return cls(sum(b.purchases for b in bursts), sum(b.seconds for b in bursts), latencies, statuses)

    @property
    def rate(self) -> float:
        return self.purchases / self.seconds

    def percentile(self, p: float) -> float:
        ordered = sorted(self.latencies)
        return ordered[min(len(ordered) - 1, int(p / 100 * len(ordered)))]

    def describe(self) -> str:
        return (
            f"{self.purchases} purchases in {self.seconds:.1f}s = {self.rate:.1f}/s; "
            f"p50 {statistics.median(self.latencies) * 1000:.0f} ms, p99 {self.percentile(99) * 1000:.0f} ms; "
            f"answers {dict(sorted(self.statuses.items()))}"
        )


@contextmanager
def local_cloud(workers: int = 1, **kw: Any) -> Iterator[Any]:
    """The local cloud as `make run` starts it, in this process, on a fresh state folder; the API in
    ``workers`` chalice local processes (`make run` has one per core; 1 here unless a benchmark asks)."""
    os.environ.setdefault("BCRYPT_ROUNDS", "4")
    from infra.local.backends import free_port
    from infra.local.cloud import LocalCloud

    state = Path(tempfile.mkdtemp(prefix="boxoffice-bench-"))
    cloud = LocalCloud(port=free_port(), quiet=True, state=state, workers=workers, **kw)
    cloud.start()
    try:
        yield cloud
    finally:
        cloud.stop()


class Shop:
    """An organizer's event with a big GA section, and buyers signed in."""

    def __init__(self, url: str, buyers: int, capacity: int) -> None:
        from tests.support import Api

        self.url = url
        session = requests.Session()
        session.mount("http://", requests.adapters.HTTPAdapter(pool_maxsize=buyers + 4))
        self.api = Api.over_http(url, session)
        _, organizer = self.api.register()
        sections = [{"code": "GA", "name": "Floor", "price_cents": 1000, "capacity": capacity}]
        self.event = self.api.create_event(organizer, sections=sections, max_tickets_per_order=1)["id"]
        self.tokens = [self.api.register()[1] for _ in range(buyers)]

    def burst(self, purchases: int) -> Burst:
        """``purchases`` GA purchases by all buyers at once, one thread each; every answer timed."""
        latencies: list[float] = []
        statuses: dict[int, int] = {}
        lock = threading.Lock()
        left = [purchases]

        def buyer(token: str) -> None:
            while True:
                with lock:
                    if left[0] == 0:
                        return
                    left[0] -= 1
                started = time.perf_counter()
                status = self.api.buy(token, self.event, 1).status
                with lock:
                    latencies.append(time.perf_counter() - started)
                    statuses[status] = statuses.get(status, 0) + 1

        threads = [threading.Thread(target=buyer, args=(t,)) for t in self.tokens]
        started = time.perf_counter()
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        return Burst(purchases, time.perf_counter() - started, latencies, statuses)
