"""The event flow never stalls: after cancelled transactions, failed conditions and a
restart of the local cloud, the next order still gets its invoice, exactly once."""

from __future__ import annotations

import re
import time

import boto3
import pytest

from chalicelib.store import keys
from infra.local.running import RunningCloud
from tests.concurrency.conftest import api_of, require_backend, wait_for
from tests.support import PASSWORD

pytestmark = pytest.mark.local_cloud


def invoices_of(api, token, order_id):
    return api.get(f"/invoices?order_id={order_id}", token=token).body["items"]


def test_the_flow_goes_on_after_cancelled_transactions_and_failed_conditions(cloud):
    """The sequence that silenced the poller on moto: every kind of refused write, then an order."""
    api = api_of(cloud)
    _, org = api.register()
    buyer_user, buyer = api.register()
    sections = [{"code": "GA", "name": "Floor", "price_cents": 1000, "capacity": 3}]
    event = api.create_event(org, sections=sections)["id"]
    first = api.buy(buyer, event, 2)
    assert first.status == 201
    wait_for(lambda: invoices_of(api, buyer, first.body["id"]), lambda items: len(items) == 1)

    taken = {"email": buyer_user["email"], "username": "someone_else", "name": "X", "password": PASSWORD}
    assert api.post("/auth/register", taken).status == 409  # a cancelled transaction (the email claim)
    sold_out = api.buy(buyer, event, 2)
    assert (sold_out.status, sold_out.body["code"]) == (409, "SoldOut")  # a cancelled transaction (capacity)
    assert api.post(f"/orders/{first.body['id']}/cancel", token=buyer).status == 200
    again = api.post(f"/orders/{first.body['id']}/cancel", token=buyer)
    assert (again.status, again.body["code"]) == (409, "AlreadyCancelled")  # a failed condition

    second = api.buy(buyer, event, 1)
    assert second.status == 201
    docs = wait_for(lambda: invoices_of(api, buyer, second.body["id"]), lambda items: len(items) == 1, timeout=20)
    assert docs[0]["number"] == 2  # organizer's sequence: the first order's invoice was 1
    credit = wait_for(lambda: invoices_of(api, buyer, first.body["id"]), lambda items: len(items) == 2)
    assert sorted(d["kind"] for d in credit) == ["credit_note", "invoice"]


def delivered_lines(cloud: RunningCloud) -> list[str]:
    return [line for line in cloud.output if "resuming after" in line]


def test_a_restart_between_an_order_and_its_invoice_delivers_it_once(tmp_path):
    """Stop the cloud while the stream poller has not yet seen an order (a long poll interval
    stands in for "not yet"); start it again: the invoice appears, once, numbered as the
    first; and a third start resumes after the checkpoint instead of replaying the stream."""
    require_backend("dynamodb-local")
    asleep = RunningCloud("dynamodb-local", state=tmp_path, args=["--poll-interval", "3600"])
    api = api_of(asleep)
    org_user, org = api.register()
    _, buyer = api.register()
    event = api.create_event(org)["id"]
    time.sleep(1.5)  # the pollers' first read is done: from now on they sleep
    order = api.buy(buyer, event, 1).body["id"]
    assert invoices_of(api, buyer, order) == []
    assert asleep.stop() == 0

    awake = RunningCloud("dynamodb-local", state=tmp_path)
    api = api_of(awake)
    docs = wait_for(lambda: invoices_of(api, buyer, order), lambda items: len(items) == 1, timeout=20)
    assert docs[0]["number"] == 1
    later = api.buy(buyer, event, 1).body["id"]
    wait_for(lambda: invoices_of(api, buyer, later), lambda items: len(items) == 1, timeout=20)
    # The activity consumer too has delivered a batch (and saved its position) before the stop:
    # it indexes the users and the event for search first, which takes a moment on disk.
    wait_for(lambda: api.get("/notifications", token=buyer).body["items"], lambda items: len(items) == 2, timeout=60)
    assert awake.stop() == 0

    again = RunningCloud("dynamodb-local", state=tmp_path)
    try:
        lines = delivered_lines(again)
        assert {re.search(r"INFO (\w+): resuming", line).group(1) for line in lines} == {"billing", "activity"}
        api = api_of(again)
        third = api.buy(buyer, event, 1).body["id"]
        docs = wait_for(lambda: invoices_of(api, buyer, third), lambda items: len(items) == 1, timeout=20)
        assert docs[0]["number"] == 3
        env = again.operator_env()
        client = boto3.client("dynamodb", endpoint_url=env["AWS_ENDPOINT_URL_DYNAMODB"])
        invoices = client.query(
            TableName=env["BOXOFFICE_TABLE"],
            IndexName="GSI2",
            KeyConditionExpression="GSI2PK = :o AND begins_with(GSI2SK, :k)",
            ExpressionAttributeValues={
                ":o": {"S": keys.invoices_by_organizer(org_user["id"])},
                ":k": {"S": "invoice#"},
            },
        )["Items"]
        assert sorted(int(i["number"]["N"]) for i in invoices) == [1, 2, 3]
    finally:
        assert again.stop() == 0
