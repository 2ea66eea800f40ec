"""The stream poller never goes silent: it follows a replaced stream, an endpoint that
orphans its iterators, closed shards and their children; and a restarted poller resumes
after its checkpoint."""

from __future__ import annotations

import time
from typing import Any

import boto3

from chalicelib.settings import get_settings
from chalicelib.store.table import create_table
from infra.local.poller import Consumer, Position, StreamPoller, StreamReader


def orders_in(records: list[dict[str, Any]]) -> list[str]:
    return [
        r["dynamodb"]["Keys"]["PK"]["S"]
        for r in records
        if r["dynamodb"]["Keys"]["SK"]["S"] == "META" and r["dynamodb"]["Keys"]["PK"]["S"].startswith("ORDER#")
    ]


class Recorder:
    """A consumer's handler that only remembers what it was handed."""

    def __init__(self) -> None:
        self.records: list[dict[str, Any]] = []

    def __call__(self, event: dict[str, Any], context: Any) -> dict[str, Any]:
        self.records.extend(event["Records"])
        return {"batchItemFailures": []}


def reader(**kw: Any) -> StreamReader:
    table = get_settings().table_name
    return StreamReader(boto3.client("dynamodb"), boto3.client("dynamodbstreams"), table, "us-east-1", **kw)


def resuming(consumer: Consumer, state: Any) -> StreamPoller:
    clients = boto3.client("dynamodb"), boto3.client("dynamodbstreams")
    return StreamPoller.resuming(consumer, *clients, get_settings().table_name, "us-east-1", state)


def buy_orders(api, n: int) -> list[str]:
    _, org = api.register()
    _, buyer = api.register()
    event = api.create_event(org)["id"]
    return [f"ORDER#{api.buy(buyer, event, 1).body['id']}" for _ in range(n)]


def test_a_restarted_poller_resumes_after_its_checkpoint(api, tmp_path):
    first = buy_orders(api, 2)
    seen = Recorder()
    poller = resuming(Consumer("billing", seen), tmp_path)
    poller.tick()
    assert orders_in(seen.records) == first
    assert Position.load(tmp_path / "billing.json").shards  # saved after the batch

    later = buy_orders(api, 2)  # written while no poller runs
    again = Recorder()
    restarted = resuming(Consumer("billing", again), tmp_path)
    restarted.tick()
    assert orders_in(again.records) == later  # everything after the checkpoint, nothing before it


def test_a_replaced_stream_is_followed_from_its_start(api, aws):
    stream = reader()
    assert orders_in([r for _, r in stream.read()]) == []  # positions itself on the current stream
    old_arn = stream.stream_arn
    aws.delete_table(TableName=get_settings().table_name)
    create_table(aws)  # a new table: a new stream
    new = buy_orders(api, 1)
    stream._described_at = 0.0  # the next read looks again (it does every refresh_after seconds)
    records = [r for _, r in stream.read()]
    assert stream.stream_arn != old_arn
    assert orders_in(records) == new


class Orphaning:
    """The real streams client, except that iterators handed out before ``orphan()`` read nothing
    ever after (what moto did when it swapped a table for its copy)."""

    def __init__(self, real: Any) -> None:
        self.real = real
        self.dead: set[str] = set()
        self.handed: set[str] = set()

    def __getattr__(self, name: str) -> Any:
        return getattr(self.real, name)

    def orphan(self) -> None:
        self.dead |= self.handed

    def get_shard_iterator(self, **kw: Any) -> Any:
        response = self.real.get_shard_iterator(**kw)
        self.handed.add(response["ShardIterator"])
        return response

    def get_records(self, ShardIterator: str, **kw: Any) -> Any:
        if ShardIterator in self.dead:
            return {"Records": [], "NextShardIterator": ShardIterator}
        response = self.real.get_records(ShardIterator=ShardIterator, **kw)
        if response.get("NextShardIterator"):
            self.handed.add(response["NextShardIterator"])
        return response


def test_a_shard_that_stops_advancing_gets_a_fresh_iterator(api):
    stream = reader(refresh_after=0.2)
    streams = stream.streams = Orphaning(stream.streams)
    first = buy_orders(api, 1)
    assert orders_in([r for _, r in stream.read()]) == first
    streams.orphan()
    later = buy_orders(api, 1)
    assert orders_in([r for _, r in stream.read()]) == []  # the old iterator is silent...
    time.sleep(0.3)
    # ...until it has been silent for refresh_after: then a new one, after the last record read
    records = [r for _, r in stream.read() + stream.read()]
    assert orders_in(records) == later


class Shards:
    """A stream of two shards: a closed parent and its open child (DynamoDB rolls shards over)."""

    def __init__(self) -> None:
        self.records = {"parent": ["1", "2"], "child": ["3", "4"]}

    def describe_stream(self, **kw: Any) -> Any:
        shards = [{"ShardId": "child", "ParentShardId": "parent"}, {"ShardId": "parent"}]
        return {"StreamDescription": {"Shards": shards}}

    def get_shard_iterator(self, ShardId: str, ShardIteratorType: str, **kw: Any) -> Any:
        after = kw.get("SequenceNumber")
        return {"ShardIterator": f"{ShardId}:{after or ''}"}

    def get_records(self, ShardIterator: str, **kw: Any) -> Any:
        shard, after = ShardIterator.split(":")
        new = [s for s in self.records[shard] if not after or int(s) > int(after)]
        records = [{"eventName": "INSERT", "dynamodb": {"SequenceNumber": s, "Keys": {}}} for s in new]
        following = None if shard == "parent" else f"{shard}:{(new or [after])[-1]}"
        return {"Records": records, "NextShardIterator": following}


class Table:
    def describe_table(self, **kw: Any) -> Any:
        return {"Table": {"LatestStreamArn": "arn:stream"}}


def test_a_closed_parent_shard_is_read_to_its_end_before_its_child():
    stream = StreamReader(Table(), Shards(), "t", "us-east-1")
    order = [(shard, r["dynamodb"]["SequenceNumber"]) for shard, r in stream.read()]
    assert order == [("parent", "1"), ("parent", "2"), ("child", "3"), ("child", "4")]
    assert stream.position().finished == {"parent"}
    assert stream.read() == []


class FailingSecondPage:
    """The real streams client, except that the read after a page of records fails once."""

    def __init__(self, real: Any) -> None:
        self.real, self.calls, self.failed = real, 0, False

    def __getattr__(self, name: str) -> Any:
        return getattr(self.real, name)

    def get_records(self, **kw: Any) -> Any:
        self.calls += 1
        if self.calls == 2 and not self.failed:
            self.failed = True
            raise ConnectionError("the endpoint went away mid-read")
        return self.real.get_records(**kw)


def test_a_read_that_fails_after_a_page_keeps_the_page_and_loses_nothing(api):
    stream = reader()
    first = buy_orders(api, 2)
    stream.streams = FailingSecondPage(stream.streams)
    got = [r for _, r in stream.read()]  # a page of records, then the read after it fails
    later = buy_orders(api, 1)
    got += [r for _, r in stream.read() + stream.read()]
    assert stream.streams.failed
    assert orders_in(got) == first + later
    sequences = [int(r["dynamodb"]["SequenceNumber"]) for r in got]
    assert sequences == sorted(set(sequences))  # every record once, in order
