"""General-admission sales: never oversell, idempotent retries, cancellation, ownership."""

from __future__ import annotations

import pytest

from tests.support import section


def assert_invariant(api, event_id):
    event = api.get(f"/events/{event_id}").body
    for s in event["sections"]:
        assert s["sold"] + s["held"] + s["remaining"] == s["capacity"], s
    return event


@pytest.fixture
def org(api):
    return api.register("organizer")


@pytest.fixture
def buyer(api):
    return api.register("buyer")


def small_event(api, token, capacity=5, **kw):
    sections = [{"code": "GA", "name": "Floor", "price_cents": 2500, "currency": "AUD", "capacity": capacity}]
    return api.create_event(token, sections=sections, **kw)


def test_buy_general_admission(api, org, buyer):
    event = api.create_event(org[1])
    r = api.buy(buyer[1], event["id"], 3)
    assert r.status == 201, r.body
    order = r.body
    assert order["status"] == "confirmed" and order["event_id"] == event["id"]
    assert order["user_id"] == buyer[0]["id"]
    assert order["total_cents"] == 15000 and order["currency"] == "AUD"
    assert len(order["tickets"]) == 3 and all(t["section"] == "GA" and t["seat"] is None for t in order["tickets"])
    assert len({t["id"] for t in order["tickets"]}) == 3
    ga = section(assert_invariant(api, event["id"]), "GA")
    assert (ga["sold"], ga["remaining"]) == (3, 97)
    assert api.get(f"/orders/{order['id']}", token=buyer[1]).body == order


def test_never_sells_more_than_remains(api, org, buyer):
    event = small_event(api, org[1], capacity=5)
    assert api.buy(buyer[1], event["id"], 4).status == 201
    r = api.buy(buyer[1], event["id"], 2)
    assert r.status == 409 and r.body["code"] == "SoldOut" and r.body["remaining"] == 1
    assert api.buy(buyer[1], event["id"], 1).status == 201
    r = api.buy(buyer[1], event["id"], 1)
    assert r.status == 409 and r.body["remaining"] == 0
    ga = section(assert_invariant(api, event["id"]), "GA")
    assert (ga["sold"], ga["remaining"]) == (5, 0)
    assert len(api.get("/orders", token=buyer[1]).body["items"]) == 2


@pytest.mark.parametrize(
    "body, status, code",
    [
        ({"section": "GA", "quantity": 0}, 400, "ValidationError"),
        ({"section": "GA", "quantity": -1}, 400, "ValidationError"),
        ({"section": "GA", "quantity": 11}, 400, "TooManyTickets"),
        ({"section": "GA", "quantity": "2"}, 400, "ValidationError"),
        ({"section": "GA", "quantity": 2.0}, 400, "ValidationError"),
        ({"section": "ZZ", "quantity": 1}, 400, "ValidationError"),
        ({"section": "A", "quantity": 1}, 400, "SeatsRequired"),
        ({"section": "GA", "quantity": 1, "price_cents": 1}, 400, "ValidationError"),
        ({"section": "GA"}, 400, "ValidationError"),
    ],
)
def test_bad_orders_are_refused_and_change_nothing(api, org, buyer, body, status, code):
    event = api.create_event(org[1])
    r = api.post(f"/events/{event['id']}/orders", body, token=buyer[1])
    assert (r.status, r.body["code"]) == (status, code), r.body
    assert section(assert_invariant(api, event["id"]), "GA")["sold"] == 0
    assert api.get("/orders", token=buyer[1]).body["items"] == []


def test_buying_needs_a_token_and_an_event(api, org, buyer):
    event = api.create_event(org[1])
    assert api.post(f"/events/{event['id']}/orders", {"section": "GA", "quantity": 1}).status == 401
    assert api.buy(buyer[1], "no-such-event").status == 404


def test_idempotent_retry_replays_and_sells_once(api, org, buyer):
    event = small_event(api, org[1], capacity=5)
    key = {"Idempotency-Key": "order-123"}
    first = api.buy(buyer[1], event["id"], 2, headers=key)
    again = api.buy(buyer[1], event["id"], 2, headers=key)
    assert first.status == again.status == 201
    assert again.body == first.body
    assert section(assert_invariant(api, event["id"]), "GA")["sold"] == 2
    other = api.buy(buyer[1], event["id"], 3, headers=key)
    assert other.status == 409 and other.body["code"] == "IdempotencyKeyReused"
    assert section(assert_invariant(api, event["id"]), "GA")["sold"] == 2
    # The key is the caller's own: another user may use the same key.
    _, token2 = api.register()
    assert api.buy(token2, event["id"], 1, headers=key).status == 201
    assert api.buy(buyer[1], event["id"], 1, headers={"Idempotency-Key": "bad key with spaces"}).status == 400


def test_orders_are_private(api, org, buyer):
    event = api.create_event(org[1])
    order = api.buy(buyer[1], event["id"]).body
    _, stranger = api.register()
    r = api.get(f"/orders/{order['id']}", token=stranger)
    assert r.status == 404 and r.body["code"] == "NotFound"
    assert api.get("/orders", token=stranger).body["items"] == []
    assert api.post(f"/orders/{order['id']}/cancel", token=stranger).status == 404
    assert api.get("/orders/nope", token=buyer[1]).status == 404
    assert api.get(f"/orders/{order['id']}").status == 401


def test_list_orders_newest_first_paginated(api, org, buyer):
    event = api.create_event(org[1])
    ids = [api.buy(buyer[1], event["id"]).body["id"] for _ in range(3)]
    page1 = api.get("/orders?limit=2", token=buyer[1]).body
    page2 = api.get(f"/orders?limit=2&cursor={page1['next_cursor']}", token=buyer[1]).body
    assert [o["id"] for o in page1["items"] + page2["items"]] == ids[::-1]
    assert page2["next_cursor"] is None


def test_cancel_returns_capacity_once(api, org, buyer):
    event = small_event(api, org[1], capacity=3)
    order = api.buy(buyer[1], event["id"], 3).body
    assert api.buy(buyer[1], event["id"], 1).status == 409
    r = api.post(f"/orders/{order['id']}/cancel", token=buyer[1])
    assert r.status == 200 and r.body["status"] == "cancelled" and r.body["cancelled_at"]
    ga = section(assert_invariant(api, event["id"]), "GA")
    assert (ga["sold"], ga["remaining"]) == (0, 3)
    again = api.post(f"/orders/{order['id']}/cancel", token=buyer[1])
    assert again.status == 409 and again.body["code"] == "AlreadyCancelled"
    assert section(assert_invariant(api, event["id"]), "GA")["remaining"] == 3
    assert api.buy(buyer[1], event["id"], 3).status == 201


def test_organizer_may_cancel_a_buyers_order(api, org, buyer):
    event = api.create_event(org[1])
    order = api.buy(buyer[1], event["id"], 2).body
    assert api.post(f"/orders/{order['id']}/cancel", token=org[1]).status == 200
    assert api.get(f"/orders/{order['id']}", token=buyer[1]).body["status"] == "cancelled"


def test_sales_report_for_organizer_only(api, org, buyer):
    event = api.create_event(org[1])
    api.buy(buyer[1], event["id"], 2)
    cancelled = api.buy(buyer[1], event["id"], 1).body
    api.post(f"/orders/{cancelled['id']}/cancel", token=buyer[1])
    r = api.get(f"/events/{event['id']}/sales", token=org[1])
    assert r.status == 200
    ga = section(r.body, "GA")
    assert (ga["sold"], ga["remaining"], ga["revenue_cents"]) == (2, 98, 10000)
    assert r.body["totals"]["sold"] == 2 and r.body["totals"]["revenue_cents"] == 10000
    assert r.body["totals"]["capacity"] == 150
    assert api.get(f"/events/{event['id']}/sales", token=buyer[1]).status == 403
    assert api.get(f"/events/{event['id']}/sales").status == 401


def test_cancelled_event_refunds_orders_and_stops_sales(api, org, buyer):
    event = api.create_event(org[1])
    order = api.buy(buyer[1], event["id"], 2).body
    assert api.delete(f"/events/{event['id']}", token=buyer[1]).status == 403
    assert api.delete(f"/events/{event['id']}", token=org[1]).status == 204
    assert api.get(f"/events/{event['id']}").body["status"] == "cancelled"
    assert api.get(f"/orders/{order['id']}", token=buyer[1]).body["status"] == "cancelled"
    r = api.buy(buyer[1], event["id"], 1)
    assert r.status == 409 and r.body["code"] == "EventCancelled"
    ga = section(assert_invariant(api, event["id"]), "GA")
    assert ga["sold"] == 0
    # Sending the DELETE again (say after a timeout mid-refund) is harmless and finishes the sweep.
    assert api.delete(f"/events/{event['id']}", token=org[1]).status == 204
    assert section(assert_invariant(api, event["id"]), "GA")["sold"] == 0


def test_per_event_ticket_limit(api, org, buyer):
    event = api.create_event(org[1], max_tickets_per_order=2)
    assert api.buy(buyer[1], event["id"], 3).status == 400
    assert api.buy(buyer[1], event["id"], 2).status == 201


def test_body_needs_to_be_json(api, org, buyer):
    event = api.create_event(org[1])
    r = api.request("POST", f"/events/{event['id']}/orders", raw="{not json", token=buyer[1])
    assert r.status == 400 and r.body["code"] == "MalformedJSON"
    r = api.request("POST", f"/events/{event['id']}/orders", raw="", token=buyer[1])
    assert r.status == 400 and r.body["code"] == "MissingBody"
    r = api.request("POST", f"/events/{event['id']}/orders", raw="[1, 2]", token=buyer[1])
    assert r.status == 400
    assert section(assert_invariant(api, event["id"]), "GA")["sold"] == 0


def test_an_expired_idempotency_key_can_be_used_again(api, org, buyer, monkeypatch):
    event = small_event(api, org[1], capacity=5)
    key = {"Idempotency-Key": "reused-after-a-day"}
    first = api.buy(buyer[1], event["id"], 1, headers=key).body
    monkeypatch.setenv("IDEMPOTENCY_TTL_SECONDS", "-5")  # records written from now on are already expired
    from chalicelib.settings import reset_settings

    reset_settings()
    later = api.buy(buyer[1], event["id"], 1, headers={"Idempotency-Key": "short-lived"})
    again = api.buy(buyer[1], event["id"], 1, headers={"Idempotency-Key": "short-lived"})
    assert later.status == again.status == 201 and later.body["id"] != again.body["id"]
    assert api.buy(buyer[1], event["id"], 1, headers=key).body["id"] == first["id"]  # still within its day
    monkeypatch.undo()
    reset_settings()
