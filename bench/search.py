"""Items read per search, with 1,000 and then 10,000 users in the table (DynamoDB Local, in memory).

The users are written straight to the table (BatchWriteItem from a few threads; the table has
no stream, as no consumer runs here) with the postings the activity consumer would write for
them (``store.search.user_entry(user).posting(gram)``, the same code) and exact gram counters.
FEW users (5) have "Quixote" in their name: all there at 1,000 users, none added after. Then
``GET /users?q=...`` through the app (chalice.test.Client), every DynamoDB call of the app
counted by botocore hooks on its clients: the items each call returned (Count of a Query, the
items of a BatchGetItem; no query uses a filter, so returned = read) and the read capacity
DynamoDB Local reports (ReturnConsumedCapacity). Authentication's own read (user + revoked
token, one BatchGetItem) is measured on GET /me and taken off.

Printed: items read per query at both sizes and the ratio 10k/1k. For a query with few matches it
must stay ~1 (it grows with the matches, not the table). For comparison, the interim filtered Query
this replaces (the users partition with a ``contains`` filter) reads every user. The third query
has only common trigrams ("ann l": Ann Lee, Joanna Lopez, ...), so its rarest partition grows with
the table: that is what the per-request read budget (READ_BUDGET postings, then a cursor) bounds.
"""

from __future__ import annotations

import os
import random
import time
from collections import Counter
from concurrent.futures import ThreadPoolExecutor
from typing import Any

os.environ.update(
    {
        "AWS_DEFAULT_REGION": "us-east-1",
        "AWS_ACCESS_KEY_ID": "bench",
        "AWS_SECRET_ACCESS_KEY": "bench",
        "AWS_ACCOUNT_ID_ENDPOINT_MODE": "disabled",
        "BOXOFFICE_TABLE": "boxoffice-bench-search",
        "JWT_SECRET": "bench-secret-0123456789-0123456789-0123",
        "BCRYPT_ROUNDS": "4",
    }
)

SIZES = (1_000, int(os.environ.get("BENCH_SEARCH_USERS", "10000")))  # the load takes ~3-4 min on 2 shared cores
THREADS = 4
FEW = 5
FIRST = [
    "Ann",
    "Joanna",
    "Liam",
    "Noah",
    "Olivia",
    "Emma",
    "Ava",
    "Mia",
    "Lucas",
    "Leo",
    "Ella",
    "Zoe",
    "Max",
    "Ivy",
    "Theo",
    "Ruby",
    "Jack",
    "Isla",
    "Finn",
    "Mila",
]
LAST = [
    "Lee",
    "Lopez",
    "Smith",
    "Jones",
    "Brown",
    "Wilson",
    "Taylor",
    "Martin",
    "White",
    "Clark",
    "Hall",
    "Young",
    "King",
    "Wright",
    "Scott",
    "Green",
]
QUERIES = {"few matches": "quixo", "2 characters, many matches": "an", "common trigrams only": "ann l"}


def make_users(start: int, end: int, rng: random.Random) -> list[Any]:
    from chalicelib.store.users import User

    users = []
    for n in range(start, end):
        name = f"{rng.choice(FIRST)} {'Quixote' if n < FEW else rng.choice(LAST)}"
        stamp = "2026-01-01T00:00:00Z"
        user = User(user_id=f"BENCH{n:06d}", email=f"b{n}@example.com", username=f"u{n:04d}", name=name)
        user.created_at = user.updated_at = stamp
        users.append(user.set_keys())
    return users


def write(items: list[dict[str, Any]]) -> None:
    """BatchWriteItem in 25s from THREADS threads (raw items, UnprocessedItems sent again)."""
    import boto3

    from chalicelib.settings import get_settings

    client, table = boto3.client("dynamodb"), get_settings().table_name

    def put(batch: list[dict[str, Any]]) -> None:
        pending: dict[str, Any] = {table: [{"PutRequest": {"Item": item}} for item in batch]}
        while pending:
            pending = client.batch_write_item(RequestItems=pending).get("UnprocessedItems") or {}

    with ThreadPoolExecutor(THREADS) as pool:
        list(pool.map(put, [items[i : i + 25] for i in range(0, len(items), 25)]))


def index(users: list[Any], counts: Counter[str]) -> list[dict[str, Any]]:
    """The users, their postings (as the activity consumer writes them) and the gram counters that changed."""
    from chalicelib.store import search

    items = [user.serialize() for user in users]
    changed: set[str] = set()
    for user in users:
        entry = search.user_entry(user)
        for gram in entry.grams:
            items.append(entry.posting(gram).serialize())
            counts[gram] += 1
            changed.add(gram)
    for gram in sorted(changed):
        pk, sk = keys_of(gram)
        items.append(search.GramCount(pk, sk, postings=counts[gram]).serialize())
    return items


def keys_of(gram: str) -> tuple[str, str]:
    from chalicelib.store import keys

    return keys.search_gram_count("user", gram)


def old_filtered_query_reads(q: str) -> int:
    """Items the interim ``contains`` filter read: every user (ScannedCount)."""
    from chalicelib.store import keys
    from chalicelib.store.users import User

    condition = User.username.contains(q) | User.name.contains(q)
    results = User.gsi1.query(keys.users_index(), filter_condition=condition)
    list(results)
    return int(results.page_iter.total_scanned_count)


def measure(api: Any, token: str, log: Any, auth: int) -> dict[str, tuple[int, int, float, int]]:
    """Per query: (items read without auth, hits on the first page, capacity, calls)."""
    out = {}
    for label, q in QUERIES.items():
        log.clear()
        r = api.get(f"/users?q={q.replace(' ', '%20')}&limit=20", token=token)
        assert r.status == 200, r.body
        items = sum(log.items.values()) - auth
        out[label] = (items, len(r.body["items"]), log.capacity, sum(log.calls.values()))
    return out


def main() -> None:
    from infra.local.backends import DynamoDBLocal

    db = DynamoDBLocal()
    db.start()
    try:
        run(db.endpoint)
    finally:
        db.stop()


def run(endpoint: str) -> None:
    os.environ["AWS_ENDPOINT_URL"] = endpoint
    import boto3
    from chalice.test import Client

    from app import app
    from bench.seats import CallLog
    from chalicelib.settings import reset_settings
    from chalicelib.store.table import reset_connections, table_definition
    from tests.support import Api

    reset_settings()
    reset_connections()
    definition = table_definition()
    definition.pop("StreamSpecification")  # no consumers run here; the stream would halve write speed
    boto3.client("dynamodb").create_table(**definition)
    rng = random.Random(8)
    counts: Counter[str] = Counter()
    log = CallLog()
    results: dict[int, dict[str, tuple[int, int, float, int]]] = {}
    old: dict[int, int] = {}
    with Client(app, stage_name="local") as client:
        api = Api.over_chalice(client)
        _, token = api.register("benchreader")
        log.attach()
        written = 0
        for size in SIZES:
            started = time.perf_counter()
            items = index(make_users(written, size, rng), counts)
            write(items)
            written = size
            print(f"{size} users: {len(items)} items written in {time.perf_counter() - started:.0f} s", flush=True)
            log.clear()
            api.get("/me", token=token)
            auth = sum(log.items.values())
            results[size] = measure(api, token, log, auth)
            old[size] = old_filtered_query_reads("quixo")
    small, large = SIZES
    print(f"\nitems read per GET /users?q= (authentication's {auth} item(s) taken off), limit 20:")
    print(f"{'query':30} {'q':>7} {'1k':>6} {'10k':>6} {'10k/1k':>7}  hits 1k/10k  RCU 1k/10k  ({SIZES[1]} users)")
    for label, q in QUERIES.items():
        a, b = results[small][label], results[large][label]
        print(
            f"{label:30} {q!r:>7} {a[0]:>6} {b[0]:>6} {b[0] / a[0]:>7.2f}  {a[1]:>4}/{b[1]:<6}  {a[2]:.1f}/{b[2]:.1f}"
        )
    print(
        f"{'interim filtered Query (before)':30} {'quixo':>7} {old[small]:>6} {old[large]:>6} "
        f"{old[large] / old[small]:>7.2f}  (every user read)"
    )
    few = results[large]["few matches"][0] / results[small]["few matches"][0]
    print(f"\nfew matches: ratio 10k/1k = {few:.2f} (the matches are the same {FEW} users at both sizes)")


if __name__ == "__main__":
    main()
