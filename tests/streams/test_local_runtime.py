"""The local cloud's event runtime (poller and scheduler) driving the real app
handlers over the table's real stream (moto)."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta

import boto3

from chalicelib.settings import get_settings
from chalicelib.store.invoices import numbers
from infra.local.poller import Consumer, StreamPoller
from infra.local.scheduler import Scheduler, jobs_of
from tests.functional.test_users import admin_token


def test_poller_retries_then_parks_a_poison_record_and_delivers_the_rest(api, stream, tmp_path):
    from app import app

    org_user, org = api.register()
    _, buyer = api.register()
    event = api.create_event(org)["id"]
    api.buy(buyer, event, 1)
    boto3.client("dynamodb").put_item(
        TableName=get_settings().table_name,
        Item={"PK": {"S": "ORDER#broken"}, "SK": {"S": "META"}, "type": {"S": "order"}},
    )
    api.buy(buyer, event, 1)
    parked_file = tmp_path / "parked.jsonl"
    billing = Consumer("billing", app.handler_map["billing"], max_retries=2, parked_file=parked_file)
    poller = StreamPoller(stream.reader, billing)
    poller.tick()  # the handler reports the poison record alone; both orders are invoiced
    assert numbers(org_user["id"], "invoice") == [1, 2]
    assert billing.pending and billing.pending[0][1]["dynamodb"]["Keys"]["PK"]["S"] == "ORDER#broken"
    poller.tick()  # retry 1, from the poison record on (the order after it is redelivered: no new number)
    assert len(billing.parked) == 0
    poller.tick()  # retry 2 fails too: retries exhausted, parked, and the rest delivered
    assert [p["record"]["dynamodb"]["Keys"]["PK"]["S"] for p in billing.parked] == ["ORDER#broken"]
    assert numbers(org_user["id"], "invoice") == [1, 2] and not billing.pending
    entry = json.loads(parked_file.read_text().splitlines()[0])
    assert entry["consumer"] == "billing" and entry["attempts"] == 3
    api.buy(buyer, event, 1)
    poller.tick()
    assert numbers(org_user["id"], "invoice") == [1, 2, 3] and not billing.pending


def test_scheduler_fires_the_daily_report_when_due(api):
    from app import app

    _, org = api.register()
    _, buyer = api.register()
    event = api.create_event(org)["id"]
    api.buy(buyer, event, 2)
    now = [datetime(2026, 11, 21, 12, 0, tzinfo=UTC)]
    jobs = jobs_of(app, now[0])
    assert sorted((j.name, j.expression) for j in jobs) == [
        ("daily_sales_report", "cron(55 23 * * ? *)"),
        ("expire_holds", "rate(1 minute)"),
    ]
    jobs = [j for j in jobs if j.name == "daily_sales_report"]
    scheduler = Scheduler(jobs, clock=lambda: now[0])
    scheduler.fire_due()
    assert scheduler.fired == []
    now[0] += timedelta(hours=12)  # 2026-11-22 00:00, past 23:55
    scheduler.fire_due()
    assert scheduler.fired == [("daily_sales_report", datetime(2026, 11, 21, 23, 55, tzinfo=UTC))]
    assert jobs[0].next_at == datetime(2026, 11, 22, 23, 55, tzinfo=UTC)
    # The report is filed under the day the schedule fired for (not the day the test runs).
    reports = api.get("/reports/sales?date=2026-11-21", token=admin_token(api)).body["items"]
    assert [(r["event_id"], r["totals"]["sold"]) for r in reports] == [(event, 2)]


def _orders(api, n):
    _, org = api.register()
    _, buyer = api.register()
    event = api.create_event(org)["id"]
    return [api.buy(buyer, event, 1).body["id"] for _ in range(n)]


def test_a_batch_that_breaks_the_handler_is_bisected_to_the_culprit(api, stream):
    from app import app

    orders = _orders(api, 4)
    culprit = f"ORDER#{orders[2]}"

    def fragile(event, context):  # the real handler, except that one record makes it raise
        if any(r["dynamodb"]["Keys"]["PK"]["S"] == culprit for r in event["Records"]):
            raise RuntimeError("boom")
        return app.handler_map["billing"](event, context)

    consumer = Consumer("billing", fragile, max_retries=1)
    poller = StreamPoller(stream.reader, consumer)
    for _ in range(12):
        poller.tick()
    parked = [
        (p["record"]["dynamodb"]["Keys"]["PK"]["S"], p["record"]["dynamodb"]["Keys"]["SK"]["S"])
        for p in consumer.parked
    ]
    assert parked == [(culprit, "META"), (culprit, "TICKET#001")]  # the order's two items; nothing innocent
    assert not consumer.pending


def test_an_unknown_failure_identifier_counts_as_a_whole_batch_failure(api, stream):
    _orders(api, 1)
    consumer = Consumer(
        "odd", lambda event, ctx: {"batchItemFailures": [{"itemIdentifier": "not-sent"}]}, max_retries=1
    )
    poller = StreamPoller(stream.reader, consumer)
    total = len(stream.read())
    stream.reader._iterators.clear()  # read the same records again through the poller
    stream.reader._read.clear()
    for _ in range(20 * total):
        poller.tick()
    # every record retried, then parked: never an endless loop
    assert not consumer.pending and len(consumer.parked) == total
    assert all(p["attempts"] == 2 for p in consumer.parked)


class _FlakyStreams:
    """The real streams client, failing the first GetRecords call."""

    def __init__(self, real):
        self.real, self.failed = real, False

    def __getattr__(self, name):
        return getattr(self.real, name)

    def get_records(self, **kwargs):
        if not self.failed:
            self.failed = True
            raise ConnectionError("network hiccup")
        return self.real.get_records(**kwargs)


def test_a_failed_shard_read_loses_nothing(api, stream):
    orders = _orders(api, 2)
    stream.reader.streams = _FlakyStreams(stream.reader.streams)
    assert stream.read() == []
    keys = {r["dynamodb"]["Keys"]["PK"]["S"] for r in stream.read()}
    assert {f"ORDER#{o}" for o in orders} <= keys
