"""Why the local cloud left moto for DynamoDB: moto's TransactWriteItems deep-copies every
table it touches, so one small transaction costs in proportion to the table and its stream
history. Median time of a two-item transaction on moto's server (stream on) at 1,000 and
at 10,000 items, beside DynamoDB Local's on the same machine, in one run."""

from __future__ import annotations

import logging
import statistics
import time
import uuid
from typing import Any

import boto3
from moto.server import ThreadedMotoServer

from infra.local.backends import DynamoDBLocal, free_port

SIZES = (1_000, 10_000)
SAMPLES = 30


def client(endpoint: str) -> Any:
    return boto3.client("dynamodb", endpoint_url=endpoint, region_name="us-east-1",
                        aws_access_key_id="x", aws_secret_access_key="x")  # fmt: skip


def setup(db: Any) -> None:
    db.create_table(
        TableName="bench",
        AttributeDefinitions=[{"AttributeName": "PK", "AttributeType": "S"}],
        KeySchema=[{"AttributeName": "PK", "KeyType": "HASH"}],
        BillingMode="PAY_PER_REQUEST",
        StreamSpecification={"StreamEnabled": True, "StreamViewType": "NEW_AND_OLD_IMAGES"},
    )


def fill_to(db: Any, size: int, have: int) -> None:
    for start in range(have, size, 25):
        items = [{"PutRequest": {"Item": {"PK": {"S": uuid.uuid4().hex}, "pad": {"S": "x" * 200}}}}
                 for _ in range(min(25, size - start))]  # fmt: skip
        db.batch_write_item(RequestItems={"bench": items})


def transaction_ms(db: Any) -> float:
    times = []
    for _ in range(SAMPLES):
        key = uuid.uuid4().hex
        started = time.perf_counter()
        put = {"TableName": "bench", "Item": {"PK": {"S": key}}, "ConditionExpression": "attribute_not_exists(PK)"}
        add = {"TableName": "bench", "Key": {"PK": {"S": "counter"}}, "UpdateExpression": "ADD n :one",
               "ExpressionAttributeValues": {":one": {"N": "1"}}}  # fmt: skip
        db.transact_write_items(TransactItems=[{"Put": put}, {"Update": add}])
        times.append(time.perf_counter() - started)
    return statistics.median(times) * 1000


def measure(endpoint: str) -> list[float]:
    db = client(endpoint)
    setup(db)
    out, have = [], 0
    for size in SIZES:
        fill_to(db, size, have)
        have = size
        transaction_ms(db)  # warm-up
        out.append(transaction_ms(db))
    return out


def main() -> None:
    logging.getLogger("werkzeug").setLevel(logging.ERROR)  # moto's server logs every request
    port = free_port()
    moto = ThreadedMotoServer(ip_address="127.0.0.1", port=port, verbose=False)
    moto.start()
    try:
        on_moto = measure(f"http://127.0.0.1:{port}")
    finally:
        moto.stop()
    local = DynamoDBLocal()
    local.start()
    try:
        on_local = measure(local.endpoint)
    finally:
        local.stop()
    for name, (small, large) in (("moto server", on_moto), ("DynamoDB Local (in memory)", on_local)):
        print(f"{name}: two-item TransactWriteItems, median {small:.1f} ms at {SIZES[0]:,} items, "
              f"{large:.1f} ms at {SIZES[1]:,} items: ratio {large / small:.2f}")  # fmt: skip


if __name__ == "__main__":
    main()
