"""The feed's cost per page, and the fan-out's cost per post (moto in process).

A reader has FRIENDS friends (users and friend edges written with the store), each of whom has posted
once, and the reader has posted too; the activity consumer is fed the table's stream until quiet
(fan-out on write: every post copied into each friend's feed in FANOUT_PAGE-friend steps). Then:

1. the reader's feed, page by page (``GET /posts?limit=LIMIT``): DynamoDB calls and items read per
   page, every call of the app counted by a botocore hook, minus what authentication costs
   (measured on ``GET /me``). Target: one Query and one BatchGetItem per page.
2. one more post by the reader (FRIENDS friends): what its fan-out costs the activity consumer.
"""

from __future__ import annotations

import json
import os
import time
from collections import Counter
from typing import Any

from bench import app_clients, use_moto_in_process

use_moto_in_process()

FRIENDS = int(os.environ.get("BENCH_FRIENDS", 200))
LIMIT = int(os.environ.get("BENCH_FEED_LIMIT", 20))
READS = {"GetItem", "BatchGetItem", "Query", "Scan", "TransactGetItems"}
WRITES = {"PutItem", "UpdateItem", "DeleteItem", "BatchWriteItem", "TransactWriteItems"}


class Calls:
    """Every DynamoDB call of the app's PynamoDB clients, with the items each returned."""

    def __init__(self) -> None:
        self.calls: Counter[str] = Counter()
        self.items: Counter[str] = Counter()

    def attach(self) -> None:
        for client in app_clients():
            client.meta.events.register("after-call.dynamodb", self._after)

    def clear(self) -> None:
        self.calls.clear()
        self.items.clear()

    def _after(self, parsed: dict[str, Any], model: Any, **_: Any) -> None:
        self.calls[model.name] += 1
        if "Count" in parsed:
            self.items[model.name] += int(parsed["Count"])
        elif "Responses" in parsed:
            self.items[model.name] += sum(len(items) for items in parsed["Responses"].values())
        elif "Item" in parsed:
            self.items[model.name] += 1

    def total(self, kinds: set[str]) -> int:
        return sum(n for op, n in self.calls.items() if op in kinds)

    def read(self) -> int:
        return sum(n for op, n in self.items.items() if op in READS)


def people(n: int) -> tuple[str, list[str]]:
    """The reader and n friends, and their tokens, written with the store: moto's transactions copy
    the whole table (and its stream) each time, so n registrations and n accepted friend requests
    through the API would take minutes here (tests/functional covers those routes)."""
    from chalicelib.auth import tokens
    from chalicelib.domain.ids import iso, new_id, utcnow
    from chalicelib.store import friends as friend_store
    from chalicelib.store.users import User

    now = iso(utcnow())
    ids = [new_id() for _ in range(n + 1)]
    for i, user_id in enumerate(ids):
        name = f"feeder{i}"
        User(
            user_id=user_id, email=f"{name}@example.com", username=name, name=name, created_at=now, updated_at=now
        ).set_keys().save()
    for friend_id in ids[1:]:
        for edge in friend_store.edges(ids[0], friend_id, now, None):
            edge.save()
    token_of = [tokens.issue(user_id, 0)[0] for user_id in ids]
    return token_of[0], token_of[1:]


def main() -> None:
    import boto3
    from chalice.test import Client
    from moto import mock_aws

    from app import app
    from chalicelib.settings import get_settings
    from chalicelib.store.table import create_table
    from infra.local.poller import StreamReader
    from tests.support import Api

    started = time.monotonic()
    with mock_aws():
        create_table(boto3.client("dynamodb"))
        boto3.client("ses").verify_email_identity(EmailAddress=get_settings().mail_from)
        reader = StreamReader(
            boto3.client("dynamodb"), boto3.client("dynamodbstreams"), get_settings().table_name, "us-east-1"
        )
        with Client(app, stage_name="local") as client:
            api = Api.over_chalice(client)

            def flush() -> int:
                """Feed the activity consumer until quiet (what it writes is read back too)."""
                delivered = 0
                while records := [r for _, r in reader.read(limit=100_000)]:
                    result = client.lambda_.invoke("activity", {"Records": records}).payload
                    assert result == {"batchItemFailures": []}, result
                    delivered += len(records)
                return delivered

            token, friends = people(FRIENDS)
            reader.read(limit=100_000)  # users and friendships: no posts yet, nothing to backfill
            for n, friend_token in enumerate(friends):
                assert api.post("/posts", {"body": f"post {n}"}, token=friend_token).status == 201
            assert api.post("/posts", {"body": "mine"}, token=token).status == 201
            flush()
            setup = time.monotonic() - started

            calls = Calls()
            calls.attach()
            api.get("/me", token=token)
            auth_calls, auth_items = calls.total(READS), calls.read()
            pages, cursor, seen = [], None, 0
            while True:
                calls.clear()
                t0 = time.perf_counter()
                r = api.get(f"/posts?limit={LIMIT}" + (f"&cursor={cursor}" if cursor else ""), token=token)
                took = time.perf_counter() - t0
                assert r.status == 200, r.body
                seen += len(r.body["items"])
                pages.append((len(r.body["items"]), dict(calls.calls), dict(calls.items), took))
                cursor = r.body["next_cursor"]
                if not cursor:
                    break

            assert api.post("/posts", {"body": "one more"}, token=token).status == 201
            calls.clear()
            t0 = time.perf_counter()
            records = flush()
            fanout_took = time.perf_counter() - t0
            fanout_calls, fanout_items = dict(calls.calls), dict(calls.items)

    print(f"setup: {FRIENDS} friends, {FRIENDS + 1} posts in the reader's feed ({setup:.0f} s)")
    print(f"authentication alone (GET /me): {auth_calls} read call(s), {auth_items} item(s); subtracted below")
    print(f"\nGET /posts?limit={LIMIT}, page by page: {seen} posts in {len(pages)} pages")
    print(f"{'page':>4} {'posts':>5} {'calls':>5} {'items read':>10} {'ms':>6}  calls by operation (items)")
    for n, (count, by_op, items, took) in enumerate(pages, 1):
        own_calls = sum(v for k, v in by_op.items() if k in READS) - auth_calls
        own_items = sum(v for k, v in items.items() if k in READS) - auth_items
        detail = {op: f"{k} ({items.get(op, 0)})" for op, k in by_op.items()}
        print(f"{n:>4} {count:>5} {own_calls:>5} {own_items:>10} {took * 1000:>6.1f}  {json.dumps(detail)}")
    full = [p for p in pages if p[0] == LIMIT]
    if full:
        per_call = sum(sum(v for k, v in p[1].items() if k in READS) - auth_calls for p in full) / len(full)
        per_item = sum(sum(v for k, v in p[2].items() if k in READS) - auth_items for p in full) / len(full)
        print(
            f"full pages: {per_call:.1f} read calls (target 2: one Query, one BatchGetItem; ratio {per_call / 2:.2f}),"
            f" {per_item:.1f} items read for {LIMIT} posts ({per_item / LIMIT:.2f} per post)"
        )
    writes = sum(v for k, v in fanout_calls.items() if k in WRITES)
    reads = sum(v for k, v in fanout_calls.items() if k in READS)
    print(
        f"\nfan-out of one post to {FRIENDS} friends (FANOUT_PAGE={get_settings().fanout_page}):"
        f" {records} stream records, {reads} read calls, {writes} write calls, {fanout_took:.2f} s in moto"
    )
    print(f"  calls: {json.dumps(fanout_calls)}  items read: {json.dumps(fanout_items)}")


if __name__ == "__main__":
    main()
