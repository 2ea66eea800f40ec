"""Invoice numbers stay consecutive when billing invocations run concurrently
(Lambda runs one per shard at once, and redelivers), on DynamoDB Local, whose
conditional writes and transactions are atomic as DynamoDB's are."""

from __future__ import annotations

import random
import uuid
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import boto3
import pytest
from chalice.test import Client

from chalicelib.settings import reset_settings
from chalicelib.store.invoices import numbers
from chalicelib.store.table import Item, create_table, reset_connections
from infra.local.backends import DynamoDBLocal
from infra.local.poller import StreamReader
from tests.concurrency.conftest import require_backend
from tests.support import Api

pytestmark = pytest.mark.local_cloud


@pytest.fixture(scope="module")
def ddb_local() -> Iterator[DynamoDBLocal]:
    require_backend("dynamodb-local")
    backend = DynamoDBLocal()
    backend.start()
    yield backend
    backend.stop()


@pytest.fixture
def api_on_ddb_local(ddb_local: DynamoDBLocal, monkeypatch: pytest.MonkeyPatch) -> Iterator[tuple[Api, Any]]:
    monkeypatch.setenv("AWS_ENDPOINT_URL_DYNAMODB", ddb_local.endpoint)
    monkeypatch.setenv("AWS_ENDPOINT_URL_DYNAMODB_STREAMS", ddb_local.endpoint)
    monkeypatch.setenv("BOXOFFICE_TABLE", f"t-{uuid.uuid4().hex[:8]}")
    reset_settings()
    reset_connections()
    create_table(boto3.client("dynamodb"))
    from app import app

    with Client(app, stage_name="local") as client:
        yield Api.over_chalice(client), app
    reset_connections()
    monkeypatch.undo()
    reset_settings()


def test_concurrent_redelivered_batches_number_without_gaps(api_on_ddb_local):
    api, app = api_on_ddb_local
    org_user, org = api.register()
    event = api.create_event(org)["id"]
    buyers = [api.register()[1] for _ in range(6)]
    for n in range(30):
        assert api.buy(buyers[n % 6], event, 1).status == 201
    reader = StreamReader(boto3.client("dynamodb"), boto3.client("dynamodbstreams"), Item.Meta.table_name, "us-east-1")
    records = [record for _, record in reader.read(limit=100_000)]
    orders = [r for r in records if r["dynamodb"]["Keys"]["PK"]["S"].startswith("ORDER#")]
    assert len([r for r in orders if r["dynamodb"]["Keys"]["SK"]["S"] == "META"]) == 30
    # Six invocations at once, each a shuffled half of the records: every order delivered ~3 times.
    rng = random.Random(7)
    batches = [rng.sample(records, len(records) // 2) for _ in range(6)]
    with ThreadPoolExecutor(6) as pool:
        results = list(pool.map(lambda batch: app.handler_map["billing"]({"Records": batch}, None), batches))
    assert all(r == {"batchItemFailures": []} for r in results), results
    app.handler_map["billing"]({"Records": records}, None)  # and once in full, so none is missed
    assert numbers(org_user["id"], "invoice") == list(range(1, 31))
