"""The local cloud's event runtime (poller and scheduler) driving the real app
handlers over the table's real stream (moto)."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta

import boto3

from chalicelib.settings import get_settings
from chalicelib.store.invoices import numbers
from infra.local.poller import Consumer, Poller
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
    poller = Poller(stream.reader, [billing])
    poller.tick()  # the handler reports the poison record alone; both orders are invoiced
    assert numbers(org_user["id"], "invoice") == [1, 2]
    assert billing.pending and billing.pending[0]["dynamodb"]["Keys"]["PK"]["S"] == "ORDER#broken"
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
    assert [(j.name, j.expression) for j in jobs] == [("daily_sales_report", "cron(55 23 * * ? *)")]
    scheduler = Scheduler(jobs, clock=lambda: now[0])
    scheduler.fire_due()
    assert scheduler.fired == []
    now[0] += timedelta(hours=12)  # 2026-11-22 00:00, past 23:55
    scheduler.fire_due()
    assert scheduler.fired == [("daily_sales_report", datetime(2026, 11, 21, 23, 55, tzinfo=UTC))]
    assert jobs[0].next_at == datetime(2026, 11, 22, 23, 55, tzinfo=UTC)
    today = datetime.now(UTC).date().isoformat()  # the job reports the real day it runs
    reports = api.get(f"/reports/sales?date={today}", token=admin_token(api)).body["items"]
    assert [(r["event_id"], r["totals"]["sold"]) for r in reports] == [(event, 2)]
