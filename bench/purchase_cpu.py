"""Where a purchase's CPU goes: one general-admission purchase end to end, in process (the app
through ``chalice.test.Client``), against DynamoDB Local, profiled with CPU time (not wall
time: waiting on the endpoint costs the function nothing).

    python -m bench purchase_cpu

Every function's own CPU time is put in one bucket by the file it lives in: botocore and the
HTTP stack under it (serialising, signing, sending, parsing the DynamoDB calls), PynamoDB,
auth (PyJWT, cryptography, bcrypt), validation (pydantic), Chalice, our code (chalicelib, app),
and the rest (the standard library: json, logging, datetime...). Printed: CPU ms per purchase per
bucket, and the ratio of the API's own CPU (everything but botocore's bucket) to botocore's.
"""

from __future__ import annotations

import cProfile
import os
import pstats
import time
from collections import defaultdict

PURCHASES = 200
BUCKETS = [
    ("botocore (serialise, sign, send, parse)", ("botocore", "urllib3", "http/client", "/ssl.py", "socket.py")),
    ("PynamoDB (models, expressions)", ("pynamodb",)),
    ("auth (PyJWT, cryptography)", ("jwt", "cryptography", "bcrypt")),
    ("validation (pydantic)", ("pydantic",)),
    ("Chalice (routing, test client)", ("chalice",)),
    ("ours (chalicelib, app)", ("chalicelib", "/app.py")),
]


def bucket(filename: str) -> str:
    for name, parts in BUCKETS:
        if any(part in filename for part in parts):
            return name
    return "other (standard library, json, logging...)"


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
    from chalicelib.store.table import create_table, reset_connections
    from tests.support import Api

    reset_settings()
    reset_connections()
    create_table(boto3.client("dynamodb"), get_settings().table_name)
    with Client(app, stage_name="local") as client:
        api = Api.over_chalice(client)
        _, organizer = api.register()
        _, buyer = api.register()
        sections = [{"code": "GA", "name": "Floor", "price_cents": 1000, "capacity": PURCHASES + 20}]
        event = api.create_event(organizer, sections=sections, max_tickets_per_order=1)["id"]
        for _ in range(10):  # warm: imports, connections, caches
            assert api.buy(buyer, event, 1).status == 201
        profiler = cProfile.Profile(time.process_time)
        cpu, wall = time.process_time(), time.perf_counter()
        profiler.enable()
        for _ in range(PURCHASES):
            api.buy(buyer, event, 1)
        profiler.disable()
        cpu, wall = time.process_time() - cpu, time.perf_counter() - wall
    stats = pstats.Stats(profiler)
    spent: dict[str, float] = defaultdict(float)
    for (filename, _, _), (_, _, own, _, _) in stats.stats.items():  # type: ignore[attr-defined]
        spent[bucket(filename)] += own
    total = sum(spent.values())
    print(f"{PURCHASES} purchases in process against DynamoDB Local: {1000 * cpu / PURCHASES:.2f} ms CPU and")
    print(f"{1000 * wall / PURCHASES:.2f} ms wall each (the rest of the wall time is the endpoint's)")
    for name, seconds in sorted(spent.items(), key=lambda kv: -kv[1]):
        print(f"  {name:<45} {1000 * seconds / PURCHASES:6.2f} ms  {100 * seconds / total:5.1f} %")
    botocore = spent[BUCKETS[0][0]]
    # The test client's own work (building the Lambda event, Chalice's dispatch) is what API Gateway
    # and the Lambda runtime do on AWS: counted as the API's, to be strict.
    print(f"API's own CPU / botocore CPU per purchase = {(total - botocore) / botocore:.2f}")


if __name__ == "__main__":
    main()
