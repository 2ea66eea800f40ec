"""Purchases under injected throttling: 5 % of DynamoDB calls answered ThrottlingException
(the fault proxy, retried by botocore with DynamoDB's backoff), against the same local
cloud with the proxy in place and no faults; 32 client threads, in one run."""

from __future__ import annotations

import json
import urllib.request

from bench.load import Shop, local_cloud
from infra.local.faults import CONTROL_PATH

THREADS = 32
PURCHASES = 800
THROTTLE = "throttle:0.05"


def set_faults(proxy_endpoint: str, spec: str) -> dict[str, object]:
    body = json.dumps({"spec": spec}).encode()
    request = urllib.request.Request(proxy_endpoint + CONTROL_PATH, data=body, method="POST")
    with urllib.request.urlopen(request, timeout=10) as r:
        stats: dict[str, object] = json.load(r)
    return stats


def main() -> None:
    with local_cloud(fault_spec="throttle:0") as cloud:  # the proxy in place, injecting nothing yet
        assert cloud.proxy is not None
        shop = Shop(cloud.url, THREADS, capacity=PURCHASES * 3)
        shop.burst(100)  # warm-up
        clean = shop.burst(PURCHASES)
        set_faults(cloud.proxy.endpoint, THROTTLE)
        before = cloud.proxy.stats()
        throttled = shop.burst(PURCHASES)
        after = cloud.proxy.stats()
    injected = after["injected"].get("throttle", 0) - before["injected"].get("throttle", 0)
    calls = after["calls"] - before["calls"]
    print(f"local cloud ({cloud.backend_name}) behind the fault proxy, {THREADS} client threads")
    print(f"no faults:        {clean.describe()}")
    print(f"{THROTTLE}:   {throttled.describe()}  ({injected} of {calls} DynamoDB calls throttled)")
    print(f"purchases/s under 5% throttling / without = {throttled.rate / clean.rate:.2f}; "
          f"p99 {throttled.percentile(99) * 1000:.0f} ms vs {clean.percentile(99) * 1000:.0f} ms "
          f"= {throttled.percentile(99) / clean.percentile(99):.2f}x")  # fmt: skip


if __name__ == "__main__":
    main()
