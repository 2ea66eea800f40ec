"""A flash sale on the local cloud with DynamoDB's per-partition write limit simulated
(`make run PARTITION_WCU=…`): sustained throttling of the hot section reaches buyers as 503
``Busy`` with ``Retry-After``, never a 500, nothing is oversold, and every 201 is a sale."""

from __future__ import annotations

import json
import threading
import time
import urllib.request
from collections import Counter
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import pytest

from tests.concurrency.conftest import api_of, running_cloud

pytestmark = pytest.mark.local_cloud
BUYERS = 24
TRIES = 6


def _throttled(cloud) -> dict[str, int]:
    with urllib.request.urlopen(cloud.operator_env()["BOXOFFICE_FAULTS_URL"], timeout=10) as r:
        return json.load(r)["throttled"]


def test_a_throttled_hot_section_answers_busy_with_retry_after_never_500():
    args = ["--partition-wcu", "4", "--poll-interval", "3600"]
    with running_cloud("dynamodb-local", args=args) as cloud:
        api = api_of(cloud)
        _, org = api.register()
        sections = [{"code": "GA", "name": "Floor", "price_cents": 1000, "capacity": 1000, "shards": 1}]
        event = api.create_event(org, sections=sections, max_tickets_per_order=1)["id"]
        tokens = [api.register()[1] for _ in range(BUYERS)]
        start = threading.Barrier(BUYERS)

        def buyer(token: str) -> list[tuple[int, str | None, str | None]]:
            start.wait()
            answers = []
            for _ in range(TRIES):
                r = api.buy(token, event, 1)
                answers.append((r.status, (r.body or {}).get("code"), r.headers.get("retry-after")))
            return answers

        with ThreadPoolExecutor(max_workers=BUYERS) as pool:
            answers = [a for batch in pool.map(buyer, tokens) for a in batch]
        statuses = Counter(status for status, _, _ in answers)
        assert set(statuses) <= {201, 503}, statuses
        assert statuses[503] > 0, f"the budget of 4 WCU/s did not throttle {BUYERS} buyers: {statuses}"
        assert statuses[201] > 0, statuses
        assert all(code == "Busy" and retry for status, code, retry in answers if status == 503), answers
        ga = api.get(f"/events/{event}").body["sections"][0]
        assert (ga["sold"], ga["remaining"]) == (statuses[201], 1000 - statuses[201]), (ga, statuses)
        throttled = _throttled(cloud)
        assert sum(throttled.values()) > 0, throttled


@pytest.fixture(scope="module")
def budgeted():
    """DynamoDB Local behind the proxy with a budget of 6 WCU a second per partition; boto3 with
    botocore's retries off, so every refusal is seen as DynamoDB sent it."""
    import boto3
    from botocore.config import Config

    from chalicelib.store.table import create_table
    from infra.local.backends import DynamoDBLocal
    from infra.local.faults import FaultProxy
    from tests.concurrency.conftest import require_backend

    require_backend("dynamodb-local")
    endpoint = DynamoDBLocal()
    endpoint.start()
    proxy = FaultProxy(endpoint.endpoint, {}, partition_wcu=6)
    proxy.start()
    config = Config(retries={"total_max_attempts": 1})
    client = boto3.client(
        "dynamodb", endpoint_url=proxy.endpoint, region_name="us-east-1", aws_access_key_id="x",
        aws_secret_access_key="x", config=config,
    )  # fmt: skip
    create_table(boto3.client("dynamodb", endpoint_url=endpoint.endpoint, region_name="us-east-1",
                              aws_access_key_id="x", aws_secret_access_key="x"), "budget")  # fmt: skip
    try:
        yield client, proxy
    finally:
        proxy.stop()
        endpoint.stop()


def _code(call) -> tuple[str | None, Any]:
    from botocore.exceptions import ClientError

    try:
        return None, call()
    except ClientError as e:
        return e.response["Error"]["Code"], e.response


def _item(pk: str, sk: str = "x") -> dict[str, Any]:
    return {"PK": {"S": pk}, "SK": {"S": sk}}


def test_the_partition_budget_answers_like_dynamodb(budgeted):
    client, proxy = budgeted
    codes = [_code(lambda i=i: client.put_item(TableName="budget", Item=_item("hot", str(i))))[0] for i in range(10)]
    assert codes[:6] == [None] * 6, codes  # 6 units, 1 a put
    assert "ProvisionedThroughputExceededException" in codes[6:], codes
    assert _code(lambda: client.put_item(TableName="budget", Item=_item("cold")))[0] is None  # its own partition
    # A transaction costs double: 2 items in the hot partition (4) cannot pass; nothing is written.
    items = [
        {"Put": {"TableName": "budget", "Item": _item("cold2")}},
        {"Put": {"TableName": "budget", "Item": _item("hot", "tx")}},
    ]
    code, response = _code(lambda: client.transact_write_items(TransactItems=items))
    assert code == "TransactionCanceledException", response
    assert [r["Code"] for r in response["CancellationReasons"]] == ["None", "ThrottlingError"], response
    assert "Item" not in client.get_item(TableName="budget", Key=_item("cold2"))
    # BatchWriteItem writes what it can and hands back the rest.
    batch = {"budget": [{"PutRequest": {"Item": _item("hot", "b")}}, {"PutRequest": {"Item": _item("cold3")}}]}
    code, result = _code(lambda: client.batch_write_item(RequestItems=batch))
    assert code is None and result["UnprocessedItems"] == {"budget": [batch["budget"][0]]}, result
    assert "Item" in client.get_item(TableName="budget", Key=_item("cold3"))
    time.sleep(1.1)  # a second refills the hot partition
    assert _code(lambda: client.put_item(TableName="budget", Item=_item("hot", "again")))[0] is None
    stats = proxy.stats()
    assert stats["partition_wcu"] == 6 and stats["throttled"]["ThrottlingError"] == 1, stats
