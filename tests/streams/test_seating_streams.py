"""Reserved seating and the waiting list through the stream consumers, fed the table's real
stream records: a group's separate invoices, assignment notices, and waiting-list offers that
are made once per record and pass on when they lapse."""

from __future__ import annotations

from datetime import timedelta

import pytest

from chalicelib.domain.ids import skew_clock, utcnow
from chalicelib.jobs import scheduled_event
from chalicelib.store.invoices import numbers
from tests.support import section


@pytest.fixture(autouse=True)
def real_clock():
    yield
    skew_clock(timedelta(0))


def notices(api, token, kind):
    items = api.get("/notifications", token=token).body["items"]
    return [n for n in items if n["kind"] == kind]


def sweep(chalice_client):
    event = scheduled_event("expire_holds", utcnow(), "us-east-1")
    return chalice_client.lambda_.invoke("expire_holds", event).payload


def test_a_group_of_three_gets_three_orders_and_three_consecutive_invoices(api, stream):
    organizer, org = api.register()
    event = api.create_event(org)
    holder_user, holder = api.register()
    friend1, t1 = api.register()
    friend2, t2 = api.register()
    hold = api.post(f"/events/{event['id']}/holds", {"section": "A", "quantity": 3, "together": True}, token=holder)
    hold = hold.body
    s1, s2, s3 = hold["seats"]
    api.post(f"/holds/{hold['id']}/assign", {"seat": s2, "user_id": friend1["id"]}, token=holder)
    api.post(f"/holds/{hold['id']}/assign", {"seat": s3, "user_id": friend2["id"]}, token=holder)
    stream.flush()
    # The friends are told a seat is kept for them.
    for token, seat in ((t1, s2), (t2, s3)):
        (notice,) = notices(api, token, "seat_assigned")
        assert notice["data"]["seat"] == seat and notice["data"]["hold_id"] == hold["id"]
    orders = {}
    for user, token in ((holder_user, holder), (friend1, t1), (friend2, t2)):
        r = api.post(f"/events/{event['id']}/orders", {"hold_id": hold["id"]}, token=token)
        assert r.status == 201, r.body
        orders[user["id"]] = (token, r.body)
    stream.flush()
    assert numbers(organizer["id"], "invoice") == [1, 2, 3]
    for user_id, (token, order) in orders.items():
        (invoice,) = api.get(f"/invoices?order_id={order['id']}", token=token).body["items"]
        assert invoice["payee"] == user_id and invoice["total_cents"] == 9000
        assert [i["id"] for i in api.get("/invoices", token=token).body["items"]] == [invoice["id"]]
        for other_token, _ in (v for k, v in orders.items() if k != user_id):
            assert api.get(f"/invoices/{invoice['id']}", token=other_token).status == 404
            assert api.get(f"/invoices?order_id={order['id']}", token=other_token).body["items"] == []
    seats = {o["seats"][0] for _, o in orders.values()}
    assert seats == {s1, s2, s3}


def sold_out_event(api, org, capacity=2):
    return api.create_event(
        org,
        sections=[{"code": "GA", "name": "Floor", "price_cents": 1000, "capacity": capacity}],
        waitlist_offer_minutes=5,
    )


def test_waiting_list_offers_in_order_once_per_record_and_passes_on_when_it_lapses(api, stream, chalice_client):
    _, org = api.register()
    event = sold_out_event(api, org)
    eid = event["id"]
    _, buyer = api.register()
    first = api.buy(buyer, eid, 1).body
    api.buy(buyer, eid, 1)
    _, w1 = api.register()
    _, w2 = api.register()
    r = api.post(f"/events/{eid}/waitlist", {"section": "GA", "quantity": 1}, token=w1)
    assert r.status == 201 and r.body["position"] == 1 and r.body["status"] == "waiting"
    assert api.post(f"/events/{eid}/waitlist", {"section": "GA", "quantity": 1}, token=w2).body["position"] == 2
    r = api.post(f"/events/{eid}/waitlist", {"section": "GA", "quantity": 1}, token=w1)
    assert r.status == 409 and r.body["code"] == "AlreadyWaiting"
    stream.flush()

    assert api.post(f"/orders/{first['id']}/cancel", token=buyer).status == 200
    batch = stream.flush()
    me1 = api.get(f"/events/{eid}/waitlist/me", token=w1).body
    assert me1["status"] == "offered" and me1["hold_id"]
    hold = api.get(f"/holds/{me1['hold_id']}", token=w1).body
    assert hold["status"] == "live" and hold["quantity"] == 1 and hold["waitlist_offer"] is True
    assert [n["data"]["hold_id"] for n in notices(api, w1, "waitlist_offer")] == [hold["id"]]
    me2 = api.get(f"/events/{eid}/waitlist/me", token=w2).body
    assert (me2["status"], me2["position"]) == ("waiting", 1)
    sec = section(api.get(f"/events/{eid}").body, "GA")
    assert (sec["sold"], sec["held"], sec["remaining"]) == (1, 1, 0)

    # The same batch again (Lambda redelivers): no second offer, no second notice.
    stream.both(batch)
    assert api.get(f"/events/{eid}/waitlist/me", token=w2).body["status"] == "waiting"
    assert len(notices(api, w1, "waitlist_offer")) == 1
    assert section(api.get(f"/events/{eid}").body, "GA")["held"] == 1

    # The offer lapses: the sweeper gives the seat back, and the next in line is offered it.
    skew_clock(timedelta(minutes=6))
    assert sweep(chalice_client)["expired"] == 1
    stream.flush()
    assert api.get(f"/events/{eid}/waitlist/me", token=w1).body["status"] == "expired"
    me2 = api.get(f"/events/{eid}/waitlist/me", token=w2).body
    assert me2["status"] == "offered" and me2["hold_id"] != hold["id"]
    assert len(notices(api, w2, "waitlist_offer")) == 1
    r = api.post(f"/events/{eid}/orders", {"hold_id": me2["hold_id"]}, token=w2)
    assert r.status == 201, r.body
    stream.flush()
    assert api.get(f"/events/{eid}/waitlist/me", token=w2).status == 404  # done: the entry is gone
    sec = section(api.get(f"/events/{eid}").body, "GA")
    assert (sec["sold"], sec["held"], sec["remaining"]) == (2, 0, 0)


def test_waiting_list_refuses_while_there_is_capacity_and_can_be_left(api, stream):
    _, org = api.register()
    event = sold_out_event(api, org, capacity=3)
    eid = event["id"]
    _, buyer = api.register()
    _, waiter = api.register()
    r = api.post(f"/events/{eid}/waitlist", {"section": "GA", "quantity": 1}, token=waiter)
    assert r.status == 409 and r.body["code"] == "NotSoldOut"
    api.buy(buyer, eid, 2)
    assert api.post(f"/events/{eid}/waitlist", {"section": "GA", "quantity": 2}, token=waiter).status == 201
    assert api.get(f"/events/{eid}/waitlist/me", token=buyer).status == 404
    assert api.delete(f"/events/{eid}/waitlist/me", token=waiter).status == 204
    assert api.get(f"/events/{eid}/waitlist/me", token=waiter).status == 404
    assert api.post(f"/events/{eid}/waitlist", {"section": "GA", "quantity": 2}).status == 401
    for body in ({"section": "GA"}, {"section": "GA", "quantity": 0}, {"section": "ZZ", "quantity": 1}, {}):
        assert api.post(f"/events/{eid}/waitlist", body, token=waiter).status == 400


def test_a_reserved_offer_holds_seats_together(api, stream):
    _, org = api.register()
    event = api.create_event(
        org, sections=[{"code": "A", "name": "Stalls", "price_cents": 1000, "rows": 1, "seats_per_row": 4}]
    )
    eid = event["id"]
    _, buyer = api.register()
    order = api.post(f"/events/{eid}/orders", {"seats": ["A-1-1", "A-1-2", "A-1-3", "A-1-4"]}, token=buyer).body
    _, waiter = api.register()
    assert api.post(f"/events/{eid}/waitlist", {"section": "A", "quantity": 2}, token=waiter).status == 201
    stream.flush()
    api.post(f"/orders/{order['id']}/cancel", token=buyer)
    stream.flush()
    me = api.get(f"/events/{eid}/waitlist/me", token=waiter).body
    hold = api.get(f"/holds/{me['hold_id']}", token=waiter).body
    assert hold["seats"] == ["A-1-2", "A-1-3"]
    seats = api.get(f"/events/{eid}/seats?section=A").body["seats"]
    assert [s["status"] for s in seats] == ["available", "held", "held", "available"]
