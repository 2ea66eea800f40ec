"""Purchases under injected throttling: 5 % of DynamoDB calls answered ThrottlingException
(the fault proxy, retried by botocore with DynamoDB's backoff), against the same local
cloud with the proxy in place and no faults; 32 client threads, in one run."""

from __future__ import annotations

import json
import urllib.request

from bench.load import Burst, Shop, local_cloud
from infra.local.faults import CONTROL_PATH

THREADS = 32
PURCHASES = 400
ROUNDS = 2
THROTTLE = "throttle:0.05"


def set_faults(proxy_endpoint: str, spec: str) -> dict[str, object]:
    body = json.dumps({"spec": spec}).encode()
    request = urllib.request.Request(proxy_endpoint + CONTROL_PATH, data=body, method="POST")
    with urllib.request.urlopen(request, timeout=10) as r:
        stats: dict[str, object] = json.load(r)
    return stats


def main() -> None:
    bursts: dict[str, list[Burst]] = {"throttle:0": [], THROTTLE: []}
    with local_cloud(fault_spec="throttle:0") as cloud:  # the proxy in place, injecting nothing yet
        assert cloud.proxy is not None
        shop = Shop(cloud.url, THREADS, capacity=PURCHASES * ROUNDS * 3)
        shop.burst(300)  # warm-up: the JVM's JIT, connection pools
        before = cloud.proxy.stats()
        for _ in range(ROUNDS):  # alternate, so warming up and drift favour neither side
            for spec, runs in bursts.items():
                set_faults(cloud.proxy.endpoint, spec)
                runs.append(shop.burst(PURCHASES))
        after = cloud.proxy.stats()
    clean, throttled = (Burst.merge(runs) for runs in bursts.values())
    injected = after["injected"].get("throttle", 0) - before["injected"].get("throttle", 0)
    print(f"local cloud ({cloud.backend_name}) behind the fault proxy, {THREADS} client threads, "
          f"{ROUNDS} alternating rounds of {PURCHASES} purchases each way")  # fmt: skip
    print(f"no faults:      {clean.describe()}")
    print(f"{THROTTLE}:  {throttled.describe()}  ({injected} DynamoDB calls throttled)")
    print(f"purchases/s under 5% throttling / without = {throttled.rate / clean.rate:.2f}; "
          f"p99 {throttled.percentile(99) * 1000:.0f} ms vs {clean.percentile(99) * 1000:.0f} ms "
          f"= {throttled.percentile(99) / clean.percentile(99):.2f}x")  # fmt: skip


if __name__ == "__main__":
    main()
