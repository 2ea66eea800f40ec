"""Where a purchase's CPU goes: one general-admission purchase end to end, in process (the app
through ``chalice.test.Client``), against DynamoDB Local, profiled with CPU time (not wall
time: waiting on the endpoint costs the function nothing).

    python -m bench purchase_cpu

Every function's own CPU time goes to one bucket: by the file it lives in when that names one
(botocore and the HTTP stack under it; PynamoDB; auth: PyJWT, cryptography, bcrypt and
chalicelib/auth; validation: pydantic; Chalice; our routing, domain and store code), else (the
standard library and C builtins: json, hmac, socket, datetime...) to the buckets of whoever called
it, in proportion to the time each caller spent in it, so that botocore's json.dumps and its
socket reads count as botocore's and a view's json as ours. Printed: CPU ms per purchase and
share per bucket, the wall time spent waiting on the endpoint, the DynamoDB calls per purchase,
and the ratio of the API's own CPU (every bucket but botocore's and the benchmark's own client) to
botocore's.
"""

from __future__ import annotations

import cProfile
import os
import pstats
import time
from collections import defaultdict
from typing import Any

PURCHASES = 200
BOTOCORE = "botocore (serialise, sign, send, parse)"
HARNESS = "the benchmark's client (tests/support.py)"
BUCKETS = [
    (BOTOCORE, ("/botocore/", "/boto3/", "/urllib3/", "/http/client.py", "/ssl.py", "/socket.py", "/dateutil/")),
    ("PynamoDB (models, serialisation)", ("/pynamodb/",)),
    ("auth (JWT verify)", ("/jwt/", "/cryptography/", "/bcrypt/", "/chalicelib/auth/")),
    ("request validation (pydantic)", ("/pydantic/", "/pydantic_core/", "/email_validator/")),
    ("Chalice (test client: the event, dispatch)", ("/chalice/",)),
    ("ours: routing, views, errors (chalicelib/api)", ("/chalicelib/api/", "/app.py")),
    ("ours: domain logic (chalicelib/domain)", ("/chalicelib/domain/",)),
    ("ours: store (chalicelib/store: keys, items, transactions)", ("/chalicelib/store/", "/chalicelib/settings.py")),
    (HARNESS, ("/tests/support.py", "/bench/")),
]
OTHER = "other (unattributed)"
Func = tuple[str, int, str]


def direct_bucket(func: Func) -> str | None:
    filename = func[0]
    for name, parts in BUCKETS:
        if any(part in filename for part in parts):
            return name
    return None


def attribute(stats: dict[Func, Any]) -> dict[str, float]:
    """Own CPU seconds per bucket, the unbucketed functions' split among their callers."""
    memo: dict[Func, dict[str, float]] = {}

    def shares(func: Func, seen: frozenset[Func]) -> dict[str, float]:
        """Which buckets a call of ``func`` works for, as fractions (by its callers' cumulative time)."""
        bucket = direct_bucket(func)
        if bucket is not None:
            return {bucket: 1.0}
        if func in memo:
            return memo[func]
        callers = stats[func][4] if func in stats else {}
        weights = {c: edge[3] for c, edge in callers.items() if c not in seen}
        total = sum(weights.values())
        if not total:
            return {OTHER: 1.0}
        out: dict[str, float] = defaultdict(float)
        for caller, weight in weights.items():
            for name, part in shares(caller, seen | {func}).items():
                out[name] += part * weight / total
        memo[func] = out
        return out

    spent: dict[str, float] = defaultdict(float)
    for func, (_, _, own, _, callers) in stats.items():
        bucket = direct_bucket(func)
        if bucket is not None:
            spent[bucket] += own
            continue
        via = {c: edge[2] for c, edge in callers.items()}  # own time in func when called by c
        if not sum(via.values()):
            spent[OTHER] += own
            continue
        scale = own / sum(via.values())
        for caller, seconds in via.items():
            for name, part in shares(caller, frozenset({func})).items():
                spent[name] += seconds * scale * part
    return spent


def main() -> None:
    os.environ.setdefault("BCRYPT_ROUNDS", "4")
    os.environ.setdefault("JWT_SECRET", "bench-secret-0123456789-0123456789-0123")
    os.environ.setdefault("AWS_DEFAULT_REGION", "us-east-1")
    os.environ.setdefault("AWS_ACCESS_KEY_ID", "bench")
    os.environ.setdefault("AWS_SECRET_ACCESS_KEY", "bench")
    os.environ["VALIDATE_RESPONSES"] = "0"  # as deployed
    from infra.local.backends import DynamoDBLocal

    ddb = DynamoDBLocal()
    ddb.start()
    try:
        os.environ["AWS_ENDPOINT_URL_DYNAMODB"] = ddb.endpoint
        os.environ["AWS_ENDPOINT_URL_DYNAMODB_STREAMS"] = ddb.endpoint
        os.environ["BOXOFFICE_TABLE"] = "boxoffice-bench-cpu"
        measure()
    finally:
        ddb.stop()


def measure() -> None:
    import boto3
    from chalice.test import Client

    from app import app
    from chalicelib.settings import get_settings, reset_settings
    from chalicelib.store.table import Item, create_table, reset_connections
    from tests.support import Api

    reset_settings()
    reset_connections()
    create_table(boto3.client("dynamodb"), get_settings().table_name)
    calls: dict[str, int] = defaultdict(int)

    def count(model: Any, **_: Any) -> None:
        calls[model.name] += 1

    with Client(app, stage_name="local") as client:
        api = Api.over_chalice(client)
        _, organizer = api.register()
        _, buyer = api.register()
        sections = [{"code": "GA", "name": "Floor", "price_cents": 1000, "capacity": 2 * PURCHASES + 20}]
        event = api.create_event(organizer, sections=sections, max_tickets_per_order=1)["id"]
        for _ in range(10):  # warm: imports, connections, caches
            assert api.buy(buyer, event, 1).status == 201
        # Unprofiled first: the CPU and wall a purchase really costs (the profiler slows Python code).
        events = Item._get_connection().connection.client.meta.events  # the app's own DynamoDB client
        events.register("before-call.dynamodb", count)
        cpu, wall = time.process_time(), time.perf_counter()
        for _ in range(PURCHASES):
            assert api.buy(buyer, event, 1).status == 201
        cpu, wall = time.process_time() - cpu, time.perf_counter() - wall
        events.unregister("before-call.dynamodb", count)
        profiler = cProfile.Profile(time.process_time)
        profiler.enable()
        for _ in range(PURCHASES):
            api.buy(buyer, event, 1)
        profiler.disable()
    spent = attribute(pstats.Stats(profiler).stats)  # type: ignore[attr-defined]
    total = sum(spent.values())
    per_call = ", ".join(f"{op} {n / PURCHASES:.2f}" for op, n in sorted(calls.items()))
    print(f"{PURCHASES} purchases in process against DynamoDB Local (on this machine):")
    print(f"  {1000 * cpu / PURCHASES:.2f} ms CPU and {1000 * wall / PURCHASES:.2f} ms wall each, unprofiled;")
    print(f"  network wait (wall - CPU, the endpoint's time) {1000 * (wall - cpu) / PURCHASES:.2f} ms")
    print(f"  DynamoDB calls per purchase: {per_call}")
    print("CPU per purchase by bucket (profiled, scaled to the unprofiled CPU):")
    for name, seconds in sorted(spent.items(), key=lambda kv: -kv[1]):
        print(f"  {name:<58} {1000 * cpu * seconds / total / PURCHASES:6.2f} ms  {100 * seconds / total:5.1f} %")
    botocore = spent[BOTOCORE]
    own = total - botocore - spent.get(HARNESS, 0.0)
    # The test client's own work (building the Lambda event, Chalice's dispatch) is what API Gateway
    # and the Lambda runtime do on AWS: counted as the API's, to be strict. The benchmark's client
    # (encoding the request, decoding the answer) is not.
    print(f"API's own CPU / botocore CPU per purchase = {own / botocore:.2f}")


if __name__ == "__main__":
    main()
