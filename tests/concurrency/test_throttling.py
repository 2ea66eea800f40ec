"""The simulated partition write limit, as boto3 sees it through the fault proxy in front of DynamoDB
Local: one hot key tops out at its budget, more keys lift it, and every refusal has DynamoDB's shape
and writes nothing. (test_flash_sale.py checks the same answers more briefly, and the API's 503.)"""

from __future__ import annotations

import json
import time
import urllib.request
from collections.abc import Callable, Iterator
from typing import Any

import boto3
import pytest
from botocore.config import Config
from botocore.exceptions import ClientError

from chalicelib.store.table import create_table
from infra.local.backends import DynamoDBLocal
from infra.local.faults import CONTROL_PATH, HOT_PARTITION, THROUGHPUT_EXCEEDED, FaultProxy
from tests.concurrency.conftest import require_backend

pytestmark = pytest.mark.local_cloud

TABLE = "throttling"
WCU = 4  # small, so that even a slow, loaded machine (puts 100 ms apart) outruns a hot key's budget


def _client(endpoint: str) -> Any:
    return boto3.client(
        "dynamodb", endpoint_url=endpoint, region_name="eu-west-1", aws_access_key_id="x",
        aws_secret_access_key="x", config=Config(retries={"total_max_attempts": 1}),
    )  # fmt: skip


@pytest.fixture(scope="module")
def setup() -> Iterator[tuple[Any, Any, FaultProxy]]:
    """(client through the proxy, client straight to DynamoDB Local, the proxy at WCU a partition)."""
    require_backend("dynamodb-local")
    endpoint = DynamoDBLocal()
    endpoint.start()
    proxy = FaultProxy(endpoint.endpoint, {}, partition_wcu=WCU)
    proxy.start()
    try:
        direct = _client(endpoint.endpoint)
        create_table(direct, TABLE)
        yield _client(proxy.endpoint), direct, proxy
    finally:
        proxy.stop()
        endpoint.stop()


def _key(pk: str, sk: str = "x") -> dict[str, Any]:
    return {"PK": {"S": pk}, "SK": {"S": sk}}


def _big(pk: str, kb: int = 2 * WCU) -> dict[str, Any]:
    """An item of ``kb`` KB and more, costing ``kb + 1`` units: a put of it passes on a full bucket and
    leaves the key in debt (a write bigger than a second's budget is let through, not refused forever)."""
    return {**_key(pk, "big"), "blob": {"S": "x" * (kb * 1024)}}


def _code(call: Callable[[], Any]) -> tuple[str | None, dict[str, Any]]:
    try:
        return None, call()
    except ClientError as e:
        return e.response["Error"]["Code"], e.response


def _stored(direct: Any, key: dict[str, Any]) -> bool:
    return "Item" in direct.get_item(TableName=TABLE, Key=key, ConsistentRead=True)


def _control(proxy: FaultProxy, asked: dict[str, Any] | None = None) -> tuple[int, dict[str, Any]]:
    data = json.dumps(asked).encode() if asked is not None else None
    request = urllib.request.Request(proxy.endpoint + CONTROL_PATH, data=data, method="POST" if data else "GET")
    try:
        with urllib.request.urlopen(request, timeout=10) as r:
            return r.status, json.load(r)
    except urllib.error.HTTPError as e:
        return e.code, json.load(e)


def _hammer(client: Any, keys: list[str], per_key: int) -> tuple[int, float, list[tuple[dict[str, Any], Any]]]:
    """``per_key`` puts on each key, round robin: (accepted, seconds taken, (key, answer) of each refusal)."""
    accepted, refusals = 0, []
    started = time.monotonic()
    for i in range(per_key):
        for k in keys:
            item = _key(k, f"s{i}")
            code, response = _code(lambda item=item: client.put_item(TableName=TABLE, Item=item))
            if code is None:
                accepted += 1
            else:
                assert code == "ProvisionedThroughputExceededException", response
                refusals.append((item, response))
    return accepted, time.monotonic() - started, refusals


def test_one_hot_key_tops_out_at_its_budget_and_more_keys_lift_the_ceiling(setup):
    client, direct, _ = setup
    hot, took, refusals = _hammer(client, ["hot"], 10 * WCU)
    assert WCU <= hot <= WCU + WCU * took + 1, (hot, took)  # a full bucket, then what refilled meanwhile
    assert refusals, "a key past its budget was never throttled"
    refused_key, refused = refusals[-1]
    assert refused["ResponseMetadata"]["HTTPStatusCode"] == 400
    assert refused["Error"]["Message"] == THROUGHPUT_EXCEEDED
    assert refused["ThrottlingReasons"] == [
        {"reason": HOT_PARTITION, "resource": f"arn:aws:dynamodb:eu-west-1:000000000000:table/{TABLE}"}
    ]
    assert not _stored(direct, refused_key)  # refused: not written

    # The sharded way: as many puts over 4 keys, each a partition of its own with its own budget.
    keys = [f"spread#{n}" for n in range(4)]
    spread, took, _ = _hammer(client, keys, 10 * WCU // len(keys))
    assert len(keys) * WCU <= spread <= len(keys) * (WCU + WCU * took + 1), (spread, took)
    assert spread > hot, (spread, hot)


def test_a_transaction_over_budget_is_cancelled_with_a_throttling_reason_and_writes_nothing(setup):
    client, direct, proxy = setup
    before = proxy.stats()["throttled"].get("ThrottlingError", 0)
    assert _code(lambda: client.put_item(TableName=TABLE, Item=_big("tx-hot")))[0] is None  # two seconds' worth
    # A ConditionCheck is charged as a transactional write: 2 units the hot key no longer has.
    check = {"TableName": TABLE, "Key": _key("tx-hot", "big"), "ConditionExpression": "attribute_exists(PK)"}
    items = [{"Put": {"TableName": TABLE, "Item": _key("tx-cold")}}, {"ConditionCheck": check}]
    code, response = _code(lambda: client.transact_write_items(TransactItems=items))
    assert code == "TransactionCanceledException", response
    assert response["CancellationReasons"] == [
        {"Code": "None"},
        {"Code": "ThrottlingError", "Message": THROUGHPUT_EXCEEDED},
    ], response
    assert response["Message"].endswith("[None, ThrottlingError]"), response
    assert not _stored(direct, _key("tx-cold"))
    assert proxy.stats()["throttled"]["ThrottlingError"] == before + 1
    time.sleep(2.2)  # the debt (WCU + 1 units) paid and 2 units more: 1.75 s at WCU a second
    assert _code(lambda: client.transact_write_items(TransactItems=items))[0] is None
    assert _stored(direct, _key("tx-cold"))


def test_a_batch_writes_what_it_can_and_is_refused_whole_when_it_can_write_nothing(setup):
    client, direct, proxy = setup
    for pk in ("batch-a", "batch-b"):
        assert _code(lambda pk=pk: client.put_item(TableName=TABLE, Item=_big(pk, 4 * WCU)))[0] is None  # 3 s owed
    puts = [{"PutRequest": {"Item": _key(pk, "b")}} for pk in ("batch-a", "batch-b", "batch-c")]
    code, result = _code(lambda: client.batch_write_item(RequestItems={TABLE: puts}))
    assert code is None and result["UnprocessedItems"] == {TABLE: puts[:2]}, result
    assert [_stored(direct, _key(pk, "b")) for pk in ("batch-a", "batch-b", "batch-c")] == [False, False, True]
    code, response = _code(lambda: client.batch_write_item(RequestItems={TABLE: puts[:2]}))
    assert code == "ProvisionedThroughputExceededException", response
    assert [r["reason"] for r in response["ThrottlingReasons"]] == [HOT_PARTITION], response
    assert not _stored(direct, _key("batch-a", "b")) and not _stored(direct, _key("batch-b", "b"))
    assert proxy.stats()["throttled"]["UnprocessedItems"] >= 1


def test_the_budget_changes_on_the_running_proxy(setup):
    client, _, proxy = setup
    status, stats = _control(proxy, {"partition_wcu": 1})
    assert status == 200 and stats["partition_wcu"] == 1 and stats["spec"] == "none", stats
    codes = [_code(lambda i=i: client.put_item(TableName=TABLE, Item=_key("live", str(i))))[0] for i in range(10)]
    assert codes[0] is None and "ProvisionedThroughputExceededException" in codes[1:], codes
    assert _control(proxy, {"partition_wcu": 0})[0] == 400  # refused: the budget stays
    assert _control(proxy)[1]["partition_wcu"] == 1
    status, stats = _control(proxy, {"partition_wcu": None})
    assert status == 200 and stats["partition_wcu"] is None, stats
    codes = [_code(lambda i=i: client.put_item(TableName=TABLE, Item=_key("live", f"n{i}")))[0] for i in range(10)]
    assert codes == [None] * 10, codes
    throttled = _control(proxy)[1]["throttled"]
    assert set(throttled) <= {"ProvisionedThroughputExceededException", "ThrottlingError", "UnprocessedItems"}
    assert throttled["ProvisionedThroughputExceededException"] >= 3, throttled
    _control(proxy, {"partition_wcu": WCU})
