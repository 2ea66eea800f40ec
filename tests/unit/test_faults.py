"""The fault proxy answers the way DynamoDB answers, and a lost answer means the write landed."""

from __future__ import annotations

import json
import urllib.request
from collections.abc import Iterator
from typing import Any

import boto3
import pytest
from botocore.config import Config
from botocore.exceptions import ClientError
from moto.server import ThreadedMotoServer

from infra.local.backends import free_port
from infra.local.faults import CONTROL_PATH, FaultProxy, FaultSpecError, parse

TABLE = "faults-test"


@pytest.fixture(scope="module")
def upstream() -> Iterator[str]:
    port = free_port()
    server = ThreadedMotoServer(ip_address="127.0.0.1", port=port, verbose=False)
    server.start()
    url = f"http://127.0.0.1:{port}"
    client(url).create_table(
        TableName=TABLE,
        AttributeDefinitions=[{"AttributeName": "PK", "AttributeType": "S"}],
        KeySchema=[{"AttributeName": "PK", "KeyType": "HASH"}],
        BillingMode="PAY_PER_REQUEST",
    )
    yield url
    server.stop()


@pytest.fixture
def proxy(upstream: str) -> Iterator[FaultProxy]:
    running = FaultProxy(upstream, {}, seed=1)
    running.start()
    yield running
    running.stop()


def client(url: str, attempts: int = 1) -> Any:
    return boto3.client(
        "dynamodb", endpoint_url=url, region_name="us-east-1", aws_access_key_id="x", aws_secret_access_key="x",
        config=Config(retries={"mode": "standard", "total_max_attempts": attempts}),
    )  # fmt: skip


def item(key: str) -> dict[str, Any]:
    return {"PK": {"S": key}, "n": {"N": "1"}}


def stored(upstream: str, key: str) -> bool:
    return "Item" in client(upstream).get_item(TableName=TABLE, Key={"PK": {"S": key}})


def error_of(call: Any) -> ClientError:
    with pytest.raises(ClientError) as raised:
        call()
    return raised.value


def status(e: ClientError) -> int:
    return int(e.response["ResponseMetadata"]["HTTPStatusCode"])


def test_specs_are_parsed_and_bad_ones_refused():
    assert parse("throttle:0.05, lost-answer:0.02") == {"throttle": 0.05, "lost-answer": 0.02}
    assert parse("") == {} and parse(None) == {}
    for bad in ("slow:0.1", "throttle", "throttle:x", "error:1.5"):
        with pytest.raises(FaultSpecError):
            parse(bad)


def test_no_faults_passes_everything_through(proxy, upstream):
    db = client(proxy.endpoint)
    db.put_item(TableName=TABLE, Item=item("plain"))
    assert db.get_item(TableName=TABLE, Key={"PK": {"S": "plain"}})["Item"]["n"] == {"N": "1"}
    assert proxy.stats()["calls"] == 2 and proxy.stats()["injected"] == {}


def test_throttling_and_server_errors_write_nothing(proxy, upstream):
    proxy.rates = {"throttle": 1.0}
    e = error_of(lambda: client(proxy.endpoint).put_item(TableName=TABLE, Item=item("throttled")))
    assert (
        e.response["Error"]["Code"] == "ThrottlingException" and e.response["ResponseMetadata"]["HTTPStatusCode"] == 400
    )
    proxy.rates = {"error": 1.0}
    e = error_of(lambda: client(proxy.endpoint).put_item(TableName=TABLE, Item=item("errored")))
    assert (
        e.response["Error"]["Code"] == "InternalServerError" and e.response["ResponseMetadata"]["HTTPStatusCode"] == 500
    )
    assert not stored(upstream, "throttled") and not stored(upstream, "errored")


def test_a_conflict_cancels_a_transaction_with_one_reason_per_item(proxy, upstream):
    proxy.rates = {"conflict": 1.0}
    items = [{"Put": {"TableName": TABLE, "Item": item(f"tx{i}")}} for i in range(3)]
    e = error_of(lambda: client(proxy.endpoint).transact_write_items(TransactItems=items))
    assert e.response["Error"]["Code"] == "TransactionCanceledException"
    codes = [r["Code"] for r in e.response["CancellationReasons"]]
    assert len(codes) == 3 and codes.count("TransactionConflict") == 1 and codes.count("None") == 2
    assert not any(stored(upstream, f"tx{i}") for i in range(3))
    client(proxy.endpoint).put_item(TableName=TABLE, Item=item("single"))  # only transactions conflict
    assert stored(upstream, "single")


def test_a_lost_answer_is_an_error_for_a_write_that_landed(proxy, upstream):
    proxy.rates = {"lost-answer": 1.0}
    e = error_of(lambda: client(proxy.endpoint).put_item(TableName=TABLE, Item=item("landed")))
    assert e.response["Error"]["Code"] == "InternalServerError"
    assert stored(upstream, "landed")
    assert "Item" in client(proxy.endpoint).get_item(TableName=TABLE, Key={"PK": {"S": "landed"}})  # reads pass
    assert proxy.stats()["injected"] == {"lost-answer": 1}


def test_the_rates_change_while_running(proxy):
    request = urllib.request.Request(
        proxy.endpoint + CONTROL_PATH, data=json.dumps({"spec": "throttle:0.25"}).encode(), method="POST"
    )
    with urllib.request.urlopen(request, timeout=5) as r:
        assert json.load(r)["spec"] == "throttle:0.25"
    assert proxy.rates == {"throttle": 0.25}
    bad = urllib.request.Request(proxy.endpoint + CONTROL_PATH, data=b'{"spec": "nope:1"}', method="POST")
    with pytest.raises(urllib.error.HTTPError) as refused:
        urllib.request.urlopen(bad, timeout=5)
    assert refused.value.code == 400 and proxy.rates == {"throttle": 0.25}
