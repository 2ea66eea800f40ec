"""DynamoDB calls per purchase, counted with a botocore event hook.

Target: 1 write call (the transaction) and at most 1 read for the purchase
itself. Authentication of the bearer token costs one more read (the user and
the revocation list in one BatchGetItem), measured separately on GET /me.
"""

from __future__ import annotations

import json
from collections import Counter
from typing import Any

from bench import use_moto_in_process

use_moto_in_process()

READS = {"GetItem", "BatchGetItem", "Query", "Scan", "TransactGetItems"}
WRITES = {"PutItem", "UpdateItem", "DeleteItem", "BatchWriteItem", "TransactWriteItems"}


def main() -> None:
    import boto3
    from chalice.test import Client
    from moto import mock_aws

    from app import app
    from chalicelib.store.table import Item, create_table
    from tests.support import Api, event_body

    calls: Counter[str] = Counter()

    def count(model: Any, **kwargs: Any) -> None:
        calls[model.name] += 1

    with mock_aws():
        create_table(boto3.client("dynamodb"))
        Item._get_connection().connection.client.meta.events.register("before-call.dynamodb", count)
        with Client(app, stage_name="local") as client:
            api = Api.over_chalice(client)
            _, token = api.register()
            event = api.create_event(token, **{k: v for k, v in event_body().items() if k != "title"})["id"]
            rows = []
            for label, do in [
                ("auth only (GET /me)", lambda: api.get("/me", token=token)),
                ("purchase", lambda: api.buy(token, event, 2)),
                ("purchase with Idempotency-Key", lambda: api.buy(token, event, 2, headers={"Idempotency-Key": "b1"})),
                ("replay of that key", lambda: api.buy(token, event, 2, headers={"Idempotency-Key": "b1"})),
            ]:
                calls.clear()
                status = do().status
                reads = sum(n for op, n in calls.items() if op in READS)
                writes = sum(n for op, n in calls.items() if op in WRITES)
                rows.append((label, status, reads, writes, dict(calls)))
    auth_reads = rows[0][2]
    print(f"{'request':34} {'status':>6} {'reads':>5} {'writes':>6}  calls")
    for label, status, reads, writes, detail in rows:
        print(f"{label:34} {status:>6} {reads:>5} {writes:>6}  {json.dumps(detail)}")
    for label, _, reads, writes, _ in rows[1:3]:
        own_reads = reads - auth_reads
        print(
            f"{label}: purchase reads {own_reads} (target 1, ratio {own_reads / 1:.2f}), "
            f"writes {writes} (target 1, ratio {writes / 1:.2f}); with authentication {reads} reads"
        )


if __name__ == "__main__":
    main()
