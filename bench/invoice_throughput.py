"""Invoice handler throughput on DynamoDB Local: order records per second through
the billing handler vs raw transactions of the same shape (counter put with a
condition + invoice put with attribute_not_exists) on the same endpoint, one
thread each, one run."""

from __future__ import annotations

import os
import time
import uuid
from typing import Any

ORDERS = 300
READS = {"GetItem", "BatchGetItem", "Query", "Scan"}


def main() -> None:
    os.environ.setdefault("BCRYPT_ROUNDS", "4")
    os.environ.setdefault("JWT_SECRET", "bench-secret-0123456789-0123456789-0123")
    os.environ.setdefault("AWS_DEFAULT_REGION", "us-east-1")
    os.environ.setdefault("AWS_ACCESS_KEY_ID", "bench")
    os.environ.setdefault("AWS_SECRET_ACCESS_KEY", "bench")
    from infra.local.backends import DynamoDBLocal

    ddb = DynamoDBLocal()
    ddb.start()
    try:
        os.environ["AWS_ENDPOINT_URL_DYNAMODB"] = ddb.endpoint
        os.environ["AWS_ENDPOINT_URL_DYNAMODB_STREAMS"] = ddb.endpoint
        os.environ["BOXOFFICE_TABLE"] = "boxoffice-bench-invoices"
        handler_rate, raw_rate, calls = _measure()
    finally:
        ddb.stop()
    reads = sum(n for op, n in calls.items() if op in READS)
    print(f"endpoint: DynamoDB Local; {ORDERS} orders, batches of 100")
    print(f"billing handler: {handler_rate:.0f} order records/s")
    print(f"  DynamoDB calls of the handler: {dict(sorted(calls.items()))}")
    print(f"billing reads per record = {reads / ORDERS:.3f}")
    print(f"raw two-item TransactWriteItems: {raw_rate:.0f}/s")
    print(f"handler / raw throughput ratio = {handler_rate / raw_rate:.3f}")


def _measure() -> tuple[float, float, dict[str, int]]:
    import boto3
    from chalice.test import Client

    from app import app
    from chalicelib.settings import get_settings, reset_settings
    from chalicelib.store.table import create_table, reset_connections
    from infra.local.poller import StreamReader
    from tests.support import Api

    reset_settings()
    reset_connections()
    table = get_settings().table_name
    client = boto3.client("dynamodb")
    create_table(client, table)
    with Client(app, stage_name="local") as test_client:
        api = Api.over_chalice(test_client)
        _, token = api.register()
        sections = [{"code": "GA", "name": "Floor", "price_cents": 1000, "capacity": ORDERS}]
        event = api.create_event(token, sections=sections, max_tickets_per_order=1)["id"]
        for _ in range(ORDERS):
            assert api.buy(token, event, 1).status == 201
    reader = StreamReader(client, boto3.client("dynamodbstreams"), table, "us-east-1")
    records = [record for _, record in reader.read(limit=100_000)]
    inserts = [r for r in records if r["eventName"] == "INSERT" and r["dynamodb"]["NewImage"]["type"]["S"] == "order"]
    assert len(inserts) == ORDERS
    handler = app.handler_map["billing"]
    calls: dict[str, int] = {}

    def count(model: Any, **_: Any) -> None:
        calls[model.name] = calls.get(model.name, 0) + 1

    from chalicelib.store.table import Item

    events = Item._get_connection().connection.client.meta.events  # the app's own DynamoDB client
    events.register("before-call.dynamodb", count)
    start = time.perf_counter()
    for i in range(0, len(inserts), 100):
        assert handler({"Records": inserts[i : i + 100]}, None) == {"batchItemFailures": []}
    handler_rate = len(inserts) / (time.perf_counter() - start)
    events.unregister("before-call.dynamodb", count)

    counter = {"PK": {"S": "BENCH#COUNTER"}, "SK": {"S": "COUNTER"}}
    start = time.perf_counter()
    for n in range(1, ORDERS + 1):
        condition = "attribute_not_exists(PK)" if n == 1 else "#v = :prev"
        values = {} if n == 1 else {":prev": {"N": str(n - 1)}}
        put_counter: dict[str, Any] = {
            "TableName": table,
            "Item": {**counter, "value": {"N": str(n)}},
            "ConditionExpression": condition,
        }
        if values:
            put_counter["ExpressionAttributeNames"] = {"#v": "value"}
            put_counter["ExpressionAttributeValues"] = values
        invoice = {"PK": {"S": f"BENCH#INVOICE#{uuid.uuid4()}"}, "SK": {"S": "META"}, "number": {"N": str(n)}}
        client.transact_write_items(
            TransactItems=[
                {"Put": put_counter},
                {"Put": {"TableName": table, "Item": invoice, "ConditionExpression": "attribute_not_exists(PK)"}},
            ]
        )
    raw_rate = ORDERS / (time.perf_counter() - start)
    return handler_rate, raw_rate, calls


if __name__ == "__main__":
    main()
