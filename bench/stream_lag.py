"""Stream lag in the local cloud: from an order's 201 to its invoice being
visible through GET /invoices?order_id=, over 100 orders. Dominated by the
poller's interval (0.2 s by default), as Lambda's is by its polling."""

from __future__ import annotations

import statistics
import time

ORDERS = 100
POLL_EVERY = 0.01


def main() -> None:
    from bench.load import local_cloud
    from tests.support import Api

    lags = []
    with local_cloud(table="boxoffice-bench-lag") as cloud:
        api = Api.over_http(cloud.url)
        _, token = api.register()
        sections = [{"code": "GA", "name": "Floor", "price_cents": 1000, "capacity": ORDERS}]
        event = api.create_event(token, sections=sections, max_tickets_per_order=1)["id"]
        for _ in range(ORDERS):
            r = api.buy(token, event, 1)
            created = time.perf_counter()
            assert r.status == 201, r.body
            while not api.get(f"/invoices?order_id={r.body['id']}", token=token).body["items"]:
                time.sleep(POLL_EVERY)
            lags.append(time.perf_counter() - created)
    lags.sort()
    p95 = lags[int(0.95 * len(lags)) - 1]
    print(
        f"local cloud ({cloud.backend_name}), poll interval {cloud.poll_interval}s, {ORDERS} orders one after another"
    )
    print(
        f"order 201 -> invoice visible: median {statistics.median(lags) * 1000:.0f} ms, "
        f"p95 {p95 * 1000:.0f} ms, max {lags[-1] * 1000:.0f} ms"
    )
    print(f"median lag / poll interval = {statistics.median(lags) / cloud.poll_interval:.2f}")


if __name__ == "__main__":
    main()
