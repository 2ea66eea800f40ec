"""The daily sales report: the job, its routes, its CSV, and the operator CLI."""

from __future__ import annotations

import csv
import io
import json
from datetime import UTC, datetime

import boto3
from click.testing import CliRunner

from chalicelib.cli import cli
from chalicelib.settings import get_settings
from tests.functional.test_users import admin_token


def test_report_job_over_events_with_sales(api):
    _, org = api.register()
    _, buyer = api.register()
    busy = api.create_event(org, title="Busy")
    quiet = api.create_event(org, title="Quiet")
    api.buy(buyer, busy["id"], 3)
    order = api.buy(buyer, busy["id"], 1).body
    api.post(f"/orders/{order['id']}/cancel", token=buyer)
    result = CliRunner().invoke(cli, ["run-job", "daily_sales_report"])
    assert result.exit_code == 0, result.output
    assert json.loads(result.output)["events"] == 2
    today = datetime.now(UTC).date().isoformat()
    admin = admin_token(api)
    r = api.get(f"/reports/sales?date={today}", token=admin)
    assert r.status == 200
    by_title = {rep["title"]: rep for rep in r.body["items"]}
    assert by_title["Busy"]["totals"] == {
        "capacity": 150,
        "sold": 3,
        "held": 0,
        "remaining": 147,
        "revenue_cents": 15000,
    }
    assert by_title["Quiet"]["totals"]["sold"] == 0 and by_title["Quiet"]["event_id"] == quiet["id"]
    ga = next(s for s in by_title["Busy"]["sections"] if s["code"] == "GA")
    assert (ga["sold"], ga["revenue_cents"]) == (3, 15000)
    body = boto3.client("s3").get_object(Bucket=get_settings().reports_bucket, Key=f"sales/{today}.csv")["Body"]
    rows = list(csv.DictReader(io.StringIO(body.read().decode())))
    assert {(row["title"], row["section"], row["sold"]) for row in rows} == {
        ("Busy", "GA", "3"),
        ("Busy", "A", "0"),
        ("Quiet", "GA", "0"),
        ("Quiet", "A", "0"),
    }
    assert api.get(f"/reports/sales?date={today}", token=org).status == 403
    assert api.get("/reports/sales?date=2026-02-30", token=admin).status == 400
    assert api.get("/reports/sales?date=2020-01-01", token=admin).body["items"] == []


def test_cli_tickets_sold_and_unknown_job(api):
    _, org = api.register()
    _, buyer = api.register()
    event = api.create_event(org, title="Counted")
    api.buy(buyer, event["id"], 4)
    result = CliRunner().invoke(cli, ["tickets-sold", event["id"]])
    assert result.exit_code == 0, result.output
    assert "Counted" in result.output
    total = next(line for line in result.output.splitlines() if line.startswith("TOTAL")).split()
    assert total[1:5] == ["150", "4", "0", "146"] and total[5] == "200.00"
    as_json = json.loads(CliRunner().invoke(cli, ["tickets-sold", event["id"], "--json"]).output)
    assert as_json["totals"]["sold"] == 4
    missing = CliRunner().invoke(cli, ["tickets-sold", "nope"])
    assert missing.exit_code != 0 and "No such event" in missing.output
    unknown = CliRunner().invoke(cli, ["run-job", "nope"])
    assert unknown.exit_code != 0 and "daily_sales_report" in unknown.output
