"""The billing consumer, fed the table's real stream records."""

from __future__ import annotations

import boto3

from chalicelib.settings import get_settings
from chalicelib.store.invoices import numbers


def setup_sales(api, orders=3):
    org_user, org = api.register()
    _, buyer = api.register()
    event = api.create_event(org)
    made = [api.buy(buyer, event["id"], n + 1).body for n in range(orders)]
    return org_user, buyer, event, made


def test_one_invoice_per_order_numbered_from_one(api, stream):
    _org_user, buyer, _event, orders = setup_sales(api)
    for order in orders:  # nothing yet: invoices come from the stream
        assert api.get(f"/invoices?order_id={order['id']}", token=buyer).body["items"] == []
    records = stream.read()
    assert stream.deliver("billing", records) == {"batchItemFailures": []}
    seen = []
    for order in orders:
        items = api.get(f"/invoices?order_id={order['id']}", token=buyer).body["items"]
        assert len(items) == 1
        inv = items[0]
        assert inv["kind"] == "invoice" and inv["status"] == "issued" and inv["order_id"] == order["id"]
        assert inv["payee"] == order["user_id"] and inv["total_cents"] == order["total_cents"]
        assert inv["lines"] == [
            {
                "description": "Midnight Jazz: General admission (GA)",
                "quantity": order["quantity"],
                "unit_price_cents": 5000,
                "total_cents": order["total_cents"],
            }
        ]
        assert api.get(f"/invoices/{inv['id']}", token=buyer).body == inv
        seen.append(inv["number"])
    assert sorted(seen) == [1, 2, 3]
    listed = api.get("/invoices", token=buyer).body["items"]
    assert [i["id"] for i in listed] == [f"{o['id']}-INV" for o in reversed(orders)]


def test_redelivering_the_batch_makes_nothing_new(api, stream):
    org_user, buyer, event, _orders = setup_sales(api)
    records = stream.read()
    first = stream.deliver("billing", records)
    again = stream.deliver("billing", records)
    assert first == again == {"batchItemFailures": []}
    assert numbers(org_user["id"], "invoice") == [1, 2, 3]
    api.buy(buyer, event["id"], 1)
    stream.deliver("billing", records + stream.read())  # old and new records together
    assert numbers(org_user["id"], "invoice") == [1, 2, 3, 4]


def test_cancelled_order_voids_its_invoice_and_gets_a_credit_note(api, stream):
    org_user, buyer, _event, orders = setup_sales(api, orders=2)
    stream.deliver("billing", stream.read())
    api.post(f"/orders/{orders[0]['id']}/cancel", token=buyer)
    records = stream.read()
    assert stream.deliver("billing", records) == {"batchItemFailures": []}
    assert stream.deliver("billing", records) == {"batchItemFailures": []}
    docs = {d["kind"]: d for d in api.get(f"/invoices?order_id={orders[0]['id']}", token=buyer).body["items"]}
    assert docs["invoice"]["status"] == "void" and docs["invoice"]["voided_at"]
    credit = docs["credit_note"]
    assert credit["number"] == 1 and credit["total_cents"] == -orders[0]["total_cents"]
    assert credit["credits_invoice_id"] == docs["invoice"]["id"]
    assert numbers(org_user["id"], "credit_note") == [1]
    other = api.get(f"/invoices?order_id={orders[1]['id']}", token=buyer).body["items"]
    assert [d["status"] for d in other] == ["issued"]


def test_cancellation_delivered_before_the_order_still_bills_both(api, stream):
    _org_user, buyer, _event, orders = setup_sales(api, orders=1)
    api.post(f"/orders/{orders[0]['id']}/cancel", token=buyer)
    insert, modify = [
        r
        for r in stream.read()
        if r["dynamodb"]["Keys"]["PK"]["S"].startswith("ORDER#") and r["dynamodb"]["Keys"]["SK"]["S"] == "META"
    ]
    assert stream.deliver("billing", [modify]) == {"batchItemFailures": []}
    assert stream.deliver("billing", [insert, modify]) == {"batchItemFailures": []}
    docs = api.get(f"/invoices?order_id={orders[0]['id']}", token=buyer).body["items"]
    assert sorted((d["kind"], d["status"]) for d in docs) == [("credit_note", "issued"), ("invoice", "void")]


def test_a_poison_record_fails_alone(api, stream):
    org_user, buyer, event, _orders = setup_sales(api, orders=2)
    # An order item the handler cannot read (a bad write by hand, a bug elsewhere):
    boto3.client("dynamodb").put_item(
        TableName=get_settings().table_name,
        Item={"PK": {"S": "ORDER#broken"}, "SK": {"S": "META"}, "type": {"S": "order"}, "status": {"S": "confirmed"}},
    )
    api.buy(buyer, event["id"], 1)
    records = stream.read()
    poison = [r for r in records if r["dynamodb"]["Keys"]["PK"]["S"] == "ORDER#broken"]
    result = stream.deliver("billing", records)
    assert result == {"batchItemFailures": [{"itemIdentifier": poison[0]["dynamodb"]["SequenceNumber"]}]}
    assert numbers(org_user["id"], "invoice") == [1, 2, 3]
    garbage = {**records[0], "dynamodb": {"SequenceNumber": "999", "NewImage": {"type": {"S": "no-such-type"}}}}
    result = stream.deliver("activity", [garbage, *records])
    assert [f["itemIdentifier"] for f in result["batchItemFailures"]] == [
        "999",
        poison[0]["dynamodb"]["SequenceNumber"],
    ]


def test_strangers_never_see_invoices(api, stream):
    _org_user, buyer, _event, orders = setup_sales(api, orders=1)
    stream.deliver("billing", stream.read())
    invoice_id = f"{orders[0]['id']}-INV"
    _, stranger = api.register()
    assert api.get(f"/invoices/{invoice_id}", token=stranger).status == 404
    assert api.get(f"/invoices?order_id={orders[0]['id']}", token=stranger).body["items"] == []
    assert api.get("/invoices", token=stranger).body["items"] == []
    assert api.get(f"/invoices/{invoice_id}").status == 401
    assert api.get(f"/invoices/{invoice_id}", token=buyer).status == 200


def test_an_order_the_cancelling_sweep_missed_is_refunded_by_billing(api, stream):
    """The sweep reads the event's orders from an eventually consistent index; an
    order committed just before the cancel can be missing from it. Here the event
    is cancelled behind the sweep's back to stand for that window."""
    _, buyer, event, orders = setup_sales(api, orders=1)
    boto3.client("dynamodb").update_item(
        TableName=get_settings().table_name,
        Key={"PK": {"S": f"EVENT#{event['id']}"}, "SK": {"S": "META"}},
        UpdateExpression="SET #s = :c",
        ExpressionAttributeNames={"#s": "status"},
        ExpressionAttributeValues={":c": {"S": "cancelled"}},
    )
    assert api.get(f"/orders/{orders[0]['id']}", token=buyer).body["status"] == "confirmed"
    assert stream.deliver("billing", stream.read()) == {"batchItemFailures": []}
    assert api.get(f"/orders/{orders[0]['id']}", token=buyer).body["status"] == "cancelled"
    assert api.get(f"/events/{event['id']}").body["sections"][0]["sold"] == 0
    stream.deliver("billing", stream.read())
    kinds = sorted(d["kind"] for d in api.get(f"/invoices?order_id={orders[0]['id']}", token=buyer).body["items"])
    assert kinds == ["credit_note", "invoice"]


def test_money_goes_back_once_from_billing(api, stream):
    from chalicelib.domain.payments import provider

    _, buyer, _event, orders = setup_sales(api, orders=1)
    order = orders[0]
    stream.deliver("billing", stream.read())
    assert api.post(f"/orders/{order['id']}/cancel", token=buyer).body["refunded_at"] is None  # not yet
    records = stream.read()
    stream.deliver("billing", records)
    stream.deliver("billing", records)  # redelivered: still one refund
    assert api.get(f"/orders/{order['id']}", token=buyer).body["refunded_at"]
    refunds = [k for k in provider().refunds if k == f"refund:{order['id']}"]
    assert len(refunds) == 1


def test_billing_sweeps_a_cancelled_event_again(api, stream):
    _, buyer, event, orders = setup_sales(api, orders=2)
    stream.deliver("billing", stream.read())  # invoiced while the event was on sale
    boto3.client("dynamodb").update_item(  # cancelled by a sweep that missed both orders (index lag)
        TableName=get_settings().table_name,
        Key={"PK": {"S": f"EVENT#{event['id']}"}, "SK": {"S": "META"}},
        UpdateExpression="SET #s = :c",
        ExpressionAttributeNames={"#s": "status"},
        ExpressionAttributeValues={":c": {"S": "cancelled"}},
    )
    stream.deliver("billing", stream.read())
    assert [api.get(f"/orders/{o['id']}", token=buyer).body["status"] for o in orders] == ["cancelled"] * 2
    assert api.get(f"/events/{event['id']}").body["sections"][0]["sold"] == 0


def test_a_batch_reads_its_event_counter_and_invoices_once_not_per_record(api, stream):
    """The billing consumer reads per batch, not per record: the event (for the line's title),
    the organizer's counter, and which invoices exist already (one BatchGetItem)."""
    from chalicelib.store.table import Item

    org_user, buyer, event, _ = setup_sales(api, orders=0)
    for _ in range(10):
        assert api.buy(buyer, event["id"], 1).status == 201
    records = stream.read()
    calls: list[str] = []

    def count(model, **_):
        calls.append(model.name)

    hooks = Item._get_connection().connection.client.meta.events
    hooks.register("before-call.dynamodb", count)
    try:
        assert stream.deliver("billing", records) == {"batchItemFailures": []}
        first = list(calls)
        calls.clear()
        assert stream.deliver("billing", records) == {"batchItemFailures": []}  # a redelivery
        again = list(calls)
    finally:
        hooks.unregister("before-call.dynamodb", count)
    reads = {"GetItem", "BatchGetItem", "Query", "Scan"}
    assert first.count("TransactWriteItems") == 10, first
    assert len([c for c in first if c in reads]) <= 3, first  # 0.3 a record here; fewer as batches grow
    # All known from one BatchGetItem; the Query is the event, read once to see it is not cancelled.
    assert sorted(c for c in again if c in reads) == ["BatchGetItem", "Query"], again
    assert "TransactWriteItems" not in again
    assert numbers(org_user["id"], "invoice") == list(range(1, 11))
