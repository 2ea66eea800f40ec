"""Reserved seating over HTTP (chalice.test.Client on moto): seat maps, chosen seats, holds that
expire, friends who each pay for their own seat, and the counters that must always add up."""

from __future__ import annotations

from datetime import timedelta

import pytest

from chalicelib.domain.ids import skew_clock, utcnow
from chalicelib.jobs import scheduled_event
from tests.support import section

ROWS, PER_ROW = 5, 10


@pytest.fixture
def org(api):
    return api.register()


@pytest.fixture
def event(api, org):
    return api.create_event(org[1], hold_minutes=10)


@pytest.fixture(autouse=True)
def real_clock():
    yield
    skew_clock(timedelta(0))


def sweep(chalice_client):
    """Fire the every-minute sweeper as EventBridge would."""
    event = scheduled_event("expire_holds", utcnow(), "us-east-1")
    return chalice_client.lambda_.invoke("expire_holds", event).payload


def seat_map(api, event_id, code="A"):
    r = api.get(f"/events/{event_id}/seats?section={code}")
    assert r.status == 200, r.body
    return {s["seat"]: s["status"] for s in r.body["seats"]}


def assert_counts_match(api, event_id, code="A"):
    """The section's counters add up and agree with the seat items."""
    sec = section(api.get(f"/events/{event_id}").body, code)
    assert sec["sold"] + sec["held"] + sec["remaining"] == sec["capacity"], sec
    statuses = list(seat_map(api, event_id, code).values())
    assert statuses.count("sold") == sec["sold"], sec
    assert statuses.count("held") == sec["held"], sec
    return sec


def test_seat_map_shows_every_seat_by_row_and_number(api, event):
    r = api.get(f"/events/{event['id']}/seats?section=A")
    assert r.status == 200
    body = r.body
    assert (body["rows"], body["seats_per_row"]) == (ROWS, PER_ROW)
    assert len(body["seats"]) == ROWS * PER_ROW
    assert body["seats"][0] == {"seat": "A-1-1", "row": 1, "number": 1, "status": "available"}
    assert body["counts"] == {"available": 50, "held": 0, "sold": 0}


@pytest.mark.parametrize(
    "query, status, code",
    [
        ("", 400, "ValidationError"),
        ("?section=GA", 400, "NoSeatMap"),
        ("?section=Z", 400, "ValidationError"),
    ],
)
def test_seat_map_bad_section(api, event, query, status, code):
    r = api.get(f"/events/{event['id']}/seats{query}")
    assert (r.status, r.body["code"]) == (status, code)


def test_seat_map_of_unknown_event_is_404(api):
    assert api.get("/events/01NOPE/seats?section=A").status == 404


def test_buy_chosen_seats_all_or_nothing(api, event):
    _, alice = api.register()
    _, bob = api.register()
    r = api.post(f"/events/{event['id']}/orders", {"seats": ["A-1-1", "A-1-2"]}, token=alice)
    assert r.status == 201, r.body
    assert r.body["seats"] == ["A-1-1", "A-1-2"]
    assert [t["seat"] for t in r.body["tickets"]] == ["A-1-1", "A-1-2"]
    assert r.body["total_cents"] == 18000
    r = api.post(f"/events/{event['id']}/orders", {"seats": ["A-1-3", "A-1-2"]}, token=bob)
    assert r.status == 409 and r.body["code"] == "SeatTaken" and r.body["seats"] == ["A-1-2"]
    statuses = seat_map(api, event["id"])
    assert statuses["A-1-3"] == "available"  # nothing of the refused order was written
    assert assert_counts_match(api, event["id"])["sold"] == 2


@pytest.mark.parametrize(
    "seats, code",
    [
        (["A-9-1"], "ValidationError"),  # no such row
        (["A-1-11"], "ValidationError"),  # no such number
        (["A-1-1", "A-1-1"], "ValidationError"),
        (["A-1-1", "B-1-1"], "ValidationError"),
        (["GA-1-1"], "NoSeatMap"),
        (["nonsense"], "ValidationError"),
        ([], "ValidationError"),
    ],
)
def test_bad_seat_orders_are_400_and_change_nothing(api, event, seats, code):
    _, buyer = api.register()
    r = api.post(f"/events/{event['id']}/orders", {"seats": seats}, token=buyer)
    assert r.status == 400 and r.body["code"] == code, r.body
    assert assert_counts_match(api, event["id"])["sold"] == 0


def test_group_size_bound_is_stated(api, org):
    event = api.create_event(
        org[1],
        max_tickets_per_order=50,
        sections=[{"code": "A", "name": "Stalls", "price_cents": 1000, "rows": 2, "seats_per_row": 40}],
    )
    _, buyer = api.register()
    seats = [f"A-1-{n}" for n in range(1, 32)]
    r = api.post(f"/events/{event['id']}/orders", {"seats": seats}, token=buyer)
    assert r.status == 400 and r.body["code"] == "GroupTooLarge" and "30" in r.body["message"]
    r = api.post(f"/events/{event['id']}/holds", {"section": "A", "quantity": 31, "together": True}, token=buyer)
    assert r.status == 400 and "30" in r.body["message"]


def test_hold_together_takes_the_best_block_and_the_counters_move(api, event):
    _, alice = api.register()
    r = api.post(f"/events/{event['id']}/holds", {"section": "A", "quantity": 4, "together": True}, token=alice)
    assert r.status == 201, r.body
    hold = r.body
    assert hold["seats"] == ["A-1-4", "A-1-5", "A-1-6", "A-1-7"]
    assert hold["status"] == "live" and hold["quantity"] == 4
    sec = assert_counts_match(api, event["id"])
    assert (sec["held"], sec["remaining"]) == (4, 46)
    # One live hold per user per event.
    r = api.post(f"/events/{event['id']}/holds", {"seats": ["A-2-1"]}, token=alice)
    assert r.status == 409 and r.body["code"] == "HoldExists" and r.body["hold_id"] == hold["id"]
    # Someone else's together block goes elsewhere in the row.
    _, bob = api.register()
    r = api.post(f"/events/{event['id']}/holds", {"section": "A", "quantity": 3, "together": True}, token=bob)
    assert r.status == 201 and r.body["seats"] == ["A-1-1", "A-1-2", "A-1-3"]
    _, carol = api.register()
    r = api.post(f"/events/{event['id']}/holds", {"section": "A", "quantity": 4, "together": True}, token=carol)
    assert r.status == 201 and r.body["seats"] == ["A-2-4", "A-2-5", "A-2-6", "A-2-7"]
    assert_counts_match(api, event["id"])


def test_no_block_big_enough_is_409(api, event):
    _, alice = api.register()
    r = api.post(f"/events/{event['id']}/holds", {"section": "A", "quantity": 11, "together": True}, token=alice)
    assert r.status == 400  # more than a row: TooManyTickets (max_tickets_per_order is 10)
    r = api.post(f"/events/{event['id']}/holds", {"section": "A", "quantity": 10, "together": True}, token=alice)
    assert r.status == 201
    seats = [f"A-{row}-{n}" for row in range(2, 6) for n in (4, 8)]
    _, bob = api.register()
    assert api.post(f"/events/{event['id']}/orders", {"seats": seats}, token=bob).status == 201
    _, carol = api.register()
    r = api.post(f"/events/{event['id']}/holds", {"section": "A", "quantity": 4, "together": True}, token=carol)
    assert r.status == 409 and r.body["code"] == "NoAdjacentSeats"
    assert_counts_match(api, event["id"])


def test_group_of_three_each_pays_for_their_own_seat(api, event):
    _, holder = api.register()
    friend1, t1 = api.register()
    friend2, t2 = api.register()
    stranger = api.register()[1]
    hold = api.post(f"/events/{event['id']}/holds", {"section": "A", "quantity": 3, "together": True}, token=holder)
    assert hold.status == 201
    hold = hold.body
    s1, s2, s3 = hold["seats"]
    assert api.post(f"/holds/{hold['id']}/assign", {"seat": s2, "user_id": friend1["id"]}, token=holder).status == 200
    r = api.post(f"/holds/{hold['id']}/assign", {"seat": s3, "user_id": friend2["id"]}, token=holder)
    assert r.status == 200 and {a["seat"] for a in r.body["assignments"]} == {s2, s3}
    # Friends see the hold; strangers don't; only the holder assigns.
    assert api.get(f"/holds/{hold['id']}", token=t1).status == 200
    assert api.get(f"/holds/{hold['id']}", token=stranger).status == 404
    assert [h["id"] for h in api.get("/me/holds", token=t1).body["items"]] == [hold["id"]]
    r = api.post(f"/holds/{hold['id']}/assign", {"seat": s1, "user_id": friend1["id"]}, token=t1)
    assert r.status == 403
    # The holder can't pay for a seat assigned to someone else.
    r = api.post(f"/events/{event['id']}/orders", {"hold_id": hold["id"], "seats": [s2]}, token=holder)
    assert r.status == 403
    orders = {}
    for token, seat in ((holder, s1), (t1, s2), (t2, s3)):
        r = api.post(f"/events/{event['id']}/orders", {"hold_id": hold["id"]}, token=token)
        assert r.status == 201, r.body
        assert r.body["seats"] == [seat] and r.body["hold_id"] == hold["id"]
        orders[token] = r.body
    assert len({o["user_id"] for o in orders.values()}) == 3
    for token, order in orders.items():
        for other in set(orders) - {token}:
            assert api.get(f"/orders/{order['id']}", token=other).status == 404
    done = api.get(f"/holds/{hold['id']}", token=holder).body
    assert done["status"] == "completed" and sorted(done["paid_seats"]) == sorted(hold["seats"])
    assert {p["user_id"] for p in done["payments"]} == {o["user_id"] for o in orders.values()}
    assert api.get("/me/holds", token=holder).body["items"] == []
    sec = assert_counts_match(api, event["id"])
    assert (sec["sold"], sec["held"]) == (3, 0)
    # The hold is over: a new one may be made.
    assert api.post(f"/events/{event['id']}/holds", {"seats": ["A-5-1"]}, token=holder).status == 201


def test_release_gives_back_what_is_unpaid(api, event):
    _, holder = api.register()
    hold = api.post(f"/events/{event['id']}/holds", {"seats": ["A-3-1", "A-3-2", "A-3-3"]}, token=holder).body
    r = api.post(f"/events/{event['id']}/orders", {"hold_id": hold["id"], "seats": ["A-3-1"]}, token=holder)
    assert r.status == 201
    assert api.delete(f"/holds/{hold['id']}", token=holder).status == 204
    statuses = seat_map(api, event["id"])
    assert (statuses["A-3-1"], statuses["A-3-2"], statuses["A-3-3"]) == ("sold", "available", "available")
    sec = assert_counts_match(api, event["id"])
    assert (sec["sold"], sec["held"], sec["remaining"]) == (1, 0, 49)
    assert api.delete(f"/holds/{hold['id']}", token=holder).status == 204  # again: nothing left
    r = api.post(f"/events/{event['id']}/orders", {"hold_id": hold["id"]}, token=holder)
    assert r.status == 409 and r.body["code"] == "HoldExpired"


def test_expired_hold_seats_are_free_at_once_and_the_sweeper_tidies(api, chalice_client, event):
    _, holder = api.register()
    _, other = api.register()
    hold = api.post(f"/events/{event['id']}/holds", {"seats": ["A-2-1", "A-2-2"]}, token=holder).body
    assert api.post(f"/events/{event['id']}/orders", {"seats": ["A-2-1"]}, token=other).status == 409
    skew_clock(timedelta(minutes=11))
    assert seat_map(api, event["id"])["A-2-1"] == "available"
    r = api.post(f"/events/{event['id']}/orders", {"hold_id": hold["id"]}, token=holder)
    assert r.status == 409 and r.body["code"] == "HoldExpired"
    # Anyone may take it at once, before any sweep; the counters move held → sold.
    r = api.post(f"/events/{event['id']}/orders", {"seats": ["A-2-1"]}, token=other)
    assert r.status == 201, r.body
    sec = section(api.get(f"/events/{event['id']}").body, "A")
    assert (sec["sold"], sec["held"], sec["remaining"]) == (1, 1, 48)
    result = sweep(chalice_client)
    assert result["expired"] == 1
    sec = assert_counts_match(api, event["id"])
    assert (sec["sold"], sec["held"], sec["remaining"]) == (1, 0, 49)
    assert api.get(f"/holds/{hold['id']}", token=holder).body["status"] == "expired"
    assert sweep(chalice_client)["expired"] == 0


def test_general_admission_hold_and_exact_expiry(api, org):
    event = api.create_event(
        org[1], sections=[{"code": "GA", "name": "Floor", "price_cents": 1000, "capacity": 3}], hold_minutes=5
    )
    _, holder = api.register()
    _, buyer = api.register()
    hold = api.post(f"/events/{event['id']}/holds", {"section": "GA", "quantity": 3}, token=holder)
    assert hold.status == 201 and hold.body["seats"] == []
    assert api.buy(buyer, event["id"], 1).status == 409
    skew_clock(timedelta(minutes=6))
    r = api.buy(buyer, event["id"], 2)  # expiry is exact: no sweep has run
    assert r.status == 201, r.body
    sec = section(api.get(f"/events/{event['id']}").body, "GA")
    assert (sec["sold"], sec["held"], sec["remaining"]) == (2, 0, 1)


def test_general_admission_hold_is_paid_as_a_whole(api, org):
    event = api.create_event(org[1], sections=[{"code": "GA", "name": "Floor", "price_cents": 1000, "capacity": 5}])
    _, holder = api.register()
    hold = api.post(f"/events/{event['id']}/holds", {"section": "GA", "quantity": 2}, token=holder).body
    r = api.post(f"/events/{event['id']}/orders", {"hold_id": hold["id"]}, token=holder)
    assert r.status == 201 and r.body["quantity"] == 2 and r.body["total_cents"] == 2000
    sec = section(api.get(f"/events/{event['id']}").body, "GA")
    assert (sec["sold"], sec["held"], sec["remaining"]) == (2, 0, 3)
    r = api.post(f"/events/{event['id']}/orders", {"hold_id": hold["id"]}, token=holder)
    assert r.status == 409


def test_cancel_frees_the_seats_at_once(api, event):
    _, buyer = api.register()
    order = api.post(f"/events/{event['id']}/orders", {"seats": ["A-4-4", "A-4-5"]}, token=buyer).body
    assert api.post(f"/orders/{order['id']}/cancel", token=buyer).status == 200
    statuses = seat_map(api, event["id"])
    assert statuses["A-4-4"] == statuses["A-4-5"] == "available"
    assert assert_counts_match(api, event["id"])["remaining"] == 50
    _, other = api.register()
    assert api.post(f"/events/{event['id']}/orders", {"seats": ["A-4-4"]}, token=other).status == 201


def test_buying_seats_of_your_own_hold_pays_the_hold(api, event):
    _, holder = api.register()
    hold = api.post(f"/events/{event['id']}/holds", {"seats": ["A-5-5", "A-5-6"]}, token=holder).body
    r = api.post(f"/events/{event['id']}/orders", {"seats": ["A-5-5"]}, token=holder)
    assert r.status == 201 and r.body["hold_id"] == hold["id"]
    assert assert_counts_match(api, event["id"])["sold"] == 1


def test_a_sold_seat_among_your_own_held_seats_is_seat_taken(api, event):
    # Found by the hold state machine: this was sent to paying the hold, which answered 400.
    _, bob = api.register()
    _, alice = api.register()
    assert api.post(f"/events/{event['id']}/orders", {"seats": ["A-1-1"]}, token=bob).status == 201
    assert api.post(f"/events/{event['id']}/holds", {"seats": ["A-1-2"]}, token=alice).status == 201
    r = api.post(f"/events/{event['id']}/orders", {"seats": ["A-1-1", "A-1-2"]}, token=alice)
    assert (r.status, r.body["code"], r.body["seats"]) == (409, "SeatTaken", ["A-1-1", "A-1-2"])
    sec = assert_counts_match(api, event["id"])
    assert (sec["sold"], sec["held"]) == (1, 1)


@pytest.mark.parametrize(
    "body",
    [
        {"section": "A", "quantity": 2, "seats": ["A-1-1"]},
        {"hold_id": "x", "section": "A"},
        {"section": "A"},
        {"seats": ["A-1-1"], "together": True},
        {"section": "A", "quantity": 0, "together": True},
        {"section": "A", "quantity": 2, "extra": 1},
    ],
)
def test_bad_hold_and_order_bodies(api, event, body):
    _, token = api.register()
    path = "holds" if "together" in body or "extra" in body else "orders"
    r = api.post(f"/events/{event['id']}/{path}", body, token=token)
    assert r.status == 400, r.body
    assert assert_counts_match(api, event["id"])["held"] == 0


def test_holds_need_sign_in_and_strangers_get_404(api, event):
    _, holder = api.register()
    _, stranger = api.register()
    assert api.post(f"/events/{event['id']}/holds", {"seats": ["A-1-1"]}).status == 401
    hold = api.post(f"/events/{event['id']}/holds", {"seats": ["A-1-1"]}, token=holder).body
    assert api.get(f"/holds/{hold['id']}", token=stranger).status == 404
    assert api.delete(f"/holds/{hold['id']}", token=stranger).status == 404
    assert api.post(f"/holds/{hold['id']}/assign", {"seat": "A-1-1", "user_id": "x"}, token=stranger).status == 404
    r = api.post(f"/events/{event['id']}/orders", {"hold_id": hold["id"]}, token=stranger)
    assert r.status == 404
    assert api.get("/holds/NOPE", token=holder).status == 404
    r = api.post(f"/holds/{hold['id']}/assign", {"seat": "A-1-1", "user_id": "nobody"}, token=holder)
    assert r.status == 400
    r = api.post(f"/holds/{hold['id']}/assign", {"seat": "A-1-2", "user_id": "nobody"}, token=holder)
    assert r.status == 400
