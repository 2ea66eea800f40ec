"""The event flow end to end on the running local cloud: the stream poller calls
the billing and activity handlers; clients poll for what they produce."""

from __future__ import annotations

import json
import threading
import urllib.request
from concurrent.futures import ThreadPoolExecutor

import pytest

from infra.local.cloud import read_env_file
from tests.concurrency.conftest import api_of, cli, wait_for

pytestmark = pytest.mark.local_cloud


def test_invoice_appears_then_credit_note_and_notifications(cloud):
    api = api_of(cloud)
    _, org = api.register()
    buyer_user, buyer = api.register()
    event = api.create_event(org)["id"]
    order = api.buy(buyer, event, 2).body

    invoices = wait_for(
        lambda: api.get(f"/invoices?order_id={order['id']}", token=buyer).body["items"], lambda items: len(items) == 1
    )
    assert invoices[0]["kind"] == "invoice" and invoices[0]["total_cents"] == order["total_cents"]

    assert api.post(f"/orders/{order['id']}/cancel", token=buyer).status == 200
    docs = wait_for(
        lambda: api.get(f"/invoices?order_id={order['id']}", token=buyer).body["items"],
        lambda items: len(items) == 2 and any(d["status"] == "void" for d in items),
    )
    assert sorted(d["kind"] for d in docs) == ["credit_note", "invoice"]
    kinds = wait_for(
        lambda: [n["kind"] for n in api.get("/notifications", token=buyer).body["items"]],
        lambda k: "order_cancelled" in k,
    )
    assert sorted(kinds) == ["order_cancelled", "order_confirmed"]

    env = read_env_file(cloud.state / "env")

    def mail_to_buyer() -> list[str]:
        with urllib.request.urlopen(env["AWS_ENDPOINT_URL"] + "/_local/mail", timeout=10) as r:
            mail = json.load(r)["messages"]
        return [m["subject"] for m in mail if m["to"] == [f"{buyer_user['username']}@example.com"]]

    # The notification is stored first, then emailed: the mail follows it, a moment later.
    wait_for(mail_to_buyer, lambda subjects: any(s.startswith("Order cancelled") for s in subjects))


def test_invoice_numbers_stay_consecutive_under_concurrent_orders(cloud):
    api = api_of(cloud)
    _org_user, org = api.register()
    event = api.create_event(org)["id"]
    buyers = [api.register()[1] for _ in range(12)]
    start = threading.Barrier(len(buyers))

    def buy(token: str) -> str:
        start.wait()
        r = api.buy(token, event, 1)
        assert r.status == 201, r.body
        return r.body["id"]

    with ThreadPoolExecutor(len(buyers)) as pool:
        orders = list(pool.map(buy, buyers))

    def numbers() -> list[int]:
        found = []
        for token, order in zip(buyers, orders, strict=True):
            found += [d["number"] for d in api.get(f"/invoices?order_id={order}", token=token).body["items"]]
        return sorted(found)

    assert wait_for(numbers, lambda n: len(n) == len(orders)) == list(range(1, len(orders) + 1))


def test_report_job_and_tickets_sold_on_the_local_cloud(cloud):
    api = api_of(cloud)
    _, org = api.register()
    _, buyer = api.register()
    event = api.create_event(org)["id"]
    api.buy(buyer, event, 3)
    done = cli(cloud, "run-job", "daily_sales_report")
    assert done.returncode == 0, done.stderr
    assert json.loads(done.stdout.strip().splitlines()[-1])["events"] >= 1
    sold = cli(cloud, "tickets-sold", event, "--json")
    assert sold.returncode == 0, sold.stderr
    assert json.loads(sold.stdout)["totals"]["sold"] == 3
