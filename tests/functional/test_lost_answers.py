"""Writes whose answer was lost: DynamoDB applied them, answered 500, and botocore sent them again.

The rule: never answer "failed" for what was written. Each test lets one write
land, loses its answer (tests/faults.py), and checks the final HTTP answer and
what the table then says.
"""

from __future__ import annotations

from chalicelib.domain.payments import provider
from chalicelib.settings import get_settings
from chalicelib.store.tx import ATTEMPTS
from tests.faults import lost_answer, refused
from tests.support import PASSWORD, event_body


def register_body(name: str) -> dict[str, str]:
    return {"email": f"{name}@example.com", "username": name, "name": f"User {name}", "password": PASSWORD}


def test_a_registration_whose_answer_was_lost_is_created_once(api):
    # Given a registration written but answered 500
    with lost_answer("TransactWriteItems") as injected:
        r = api.post("/auth/register", register_body("dana"))
    # Then the resent transaction finds its own new user: 201, not 409 EmailTaken
    assert injected.sent == 1
    assert r.status == 201, r.body
    login = api.post("/auth/login", {"email": "dana@example.com", "password": PASSWORD})
    assert login.status == 200 and login.body["user"]["id"] == r.body["id"]
    # And the email and username are still claimed, once
    again = api.post("/auth/register", register_body("dana"))
    assert again.status == 409 and again.body["code"] == "EmailTaken"


def test_an_event_whose_answer_was_lost_is_created_once(api):
    _, token = api.register()
    with lost_answer("TransactWriteItems") as injected:
        r = api.post("/events", event_body(), token=token)
    assert injected.sent == 1
    assert r.status == 201, r.body  # was a 500: the failed condition on our own new event went unhandled
    stored = api.get(f"/events/{r.body['id']}")
    assert stored.status == 200
    assert [(s["code"], s["remaining"]) for s in stored.body["sections"]] == [("A", 50), ("GA", 100)]


def test_the_last_allowed_sign_in_is_not_refused_when_its_count_lost_its_answer(api):
    # Given four wrong passwords: the fifth attempt is the last one allowed (limit 5)
    user, _ = api.register()
    email = f"{user['username']}@example.com"
    for _ in range(4):
        assert api.post("/auth/login", {"email": email, "password": "not the password!"}).status == 401
    # When the fifth attempt's count is written but answered 500, and botocore resends it
    with lost_answer("UpdateItem") as injected:
        r = api.post("/auth/login", {"email": email, "password": PASSWORD})
    # Then the resend is recognised as the same attempt: signed in, not 429
    assert injected.sent == 1
    assert r.status == 200, r.body


def test_a_single_write_meeting_a_transaction_is_busy_not_a_500(api):
    _, token = api.register()
    # DynamoDB refuses a PutItem on an item a transaction holds; botocore does not retry that
    with refused("PutItem", "TransactionConflictException"):
        r = api.post("/auth/logout", token=token)
    assert r.status == 503 and r.body["code"] == "Busy" and r.headers["retry-after"] == "1"
    assert api.get("/me", token=token).status == 200  # nothing was revoked
    assert api.post("/auth/logout", token=token).status == 204


def test_a_logout_whose_answer_was_lost_still_signs_out(api):
    _, token = api.register()
    with lost_answer("PutItem") as injected:
        r = api.post("/auth/logout", token=token)
    assert injected.sent == 1 and r.status == 204
    assert api.get("/me", token=token).body["code"] == "TokenRevoked"


def test_an_event_cancellation_whose_answer_was_lost_is_done_once(api):
    _, token = api.register()
    event = api.create_event(token)
    with lost_answer("TransactWriteItems") as injected:
        r = api.delete(f"/events/{event['id']}", token=token)
    assert injected.sent == 1 and r.status == 204, r.body
    assert api.get(f"/events/{event['id']}").body["status"] == "cancelled"


def test_a_purchase_whose_answer_was_lost_is_sold_once_and_answered_201(api):
    # moto ignores ClientRequestToken, as DynamoDB does once its 10 minutes are over: the resent
    # transaction meets its own new order, and that means "already written", not "failed"
    _, org = api.register()
    _, buyer = api.register()
    event = api.create_event(org)["id"]
    with lost_answer("TransactWriteItems") as injected:
        r = api.buy(buyer, event, 2)
    assert injected.sent == 1 and r.status == 201, r.body
    assert [o["id"] for o in api.get("/orders", token=buyer).body["items"]] == [r.body["id"]]
    ga = next(s for s in api.get(f"/events/{event}").body["sections"] if s["code"] == "GA")
    assert ga["sold"] == 2


def test_an_order_cancellation_whose_answer_was_lost_is_answered_200_once(api):
    _, org = api.register()
    _, buyer = api.register()
    event = api.create_event(org)["id"]
    order = api.buy(buyer, event, 1).body["id"]
    with lost_answer("TransactWriteItems") as injected:
        r = api.post(f"/orders/{order}/cancel", token=buyer)
    assert injected.sent == 1 and r.status == 200, r.body  # was 409 AlreadyCancelled for our own cancel
    again = api.post(f"/orders/{order}/cancel", token=buyer)
    assert again.status == 409 and again.body["code"] == "AlreadyCancelled"
    ga = next(s for s in api.get(f"/events/{event}").body["sections"] if s["code"] == "GA")
    assert ga["sold"] == 0


def test_a_purchase_that_never_got_an_answer_is_fenced_then_voided(api, aws):
    # Given an endpoint that fails every attempt of the purchase's transaction (nothing written)
    _, org = api.register()
    _, buyer = api.register()
    event = api.create_event(org)["id"]
    with refused("TransactWriteItems", "InternalServerError", status=500, times=ATTEMPTS) as injected:
        r = api.buy(buyer, event, 1)
    # Then the answer is "retry later", the order's key is fenced (a transaction still in flight
    # could no longer write it), and only then is the payment voided
    assert injected.sent == ATTEMPTS and r.status == 503 and r.body["code"] == "Busy", r.body
    voided = [key.removeprefix("void:") for key in provider().refunds if key.startswith("void:")]
    assert len(voided) == 1
    key = {"PK": {"S": f"ORDER#{voided[0]}"}, "SK": {"S": "META"}}
    fence = aws.get_item(TableName=get_settings().table_name, Key=key)
    assert fence["Item"]["type"] == {"S": "voided_order"}
    assert api.get("/orders", token=buyer).body["items"] == []
    assert api.get(f"/orders/{voided[0]}", token=buyer).status == 404
    ga = next(s for s in api.get(f"/events/{event}").body["sections"] if s["code"] == "GA")
    assert ga["sold"] == 0
    assert api.buy(buyer, event, 1).status == 201  # and the next purchase goes through


def _section(api, event_id, code):
    return next(s for s in api.get(f"/events/{event_id}").body["sections"] if s["code"] == code)


def test_a_hold_whose_answer_was_lost_is_made_once(api):
    _, org = api.register()
    event = api.create_event(org)
    _, token = api.register()
    with lost_answer("TransactWriteItems") as injected:
        r = api.post(f"/events/{event['id']}/holds", {"seats": ["A-1-1", "A-1-2"]}, token=token)
    assert injected.sent == 1
    assert r.status == 201, r.body  # not 409 SeatTaken / HoldExists for our own seats and claim
    assert api.get(f"/holds/{r.body['id']}", token=token).body["seats"] == ["A-1-1", "A-1-2"]
    assert _section(api, event["id"], "A")["held"] == 2


def test_a_hold_payment_and_a_seat_order_whose_answers_were_lost_are_made_once(api):
    _, org = api.register()
    event = api.create_event(org)
    _, token = api.register()
    hold = api.post(f"/events/{event['id']}/holds", {"seats": ["A-2-1"]}, token=token).body
    with lost_answer("TransactWriteItems") as injected:
        r = api.post(f"/events/{event['id']}/orders", {"hold_id": hold["id"]}, token=token)
    assert injected.sent == 1 and r.status == 201, r.body
    with lost_answer("TransactWriteItems"):
        r = api.post(f"/events/{event['id']}/orders", {"seats": ["A-3-1"]}, token=token)
    assert r.status == 201, r.body  # not 409 SeatTaken for the seat it took itself
    sec = _section(api, event["id"], "A")
    assert (sec["sold"], sec["held"]) == (2, 0)
    assert len(api.get("/orders", token=token).body["items"]) == 2


def test_joining_a_waiting_list_whose_answer_was_lost_is_not_refused(api):
    _, org = api.register()
    sections = [{"code": "GA", "name": "Floor", "price_cents": 100, "capacity": 1}]
    event = api.create_event(org, sections=sections)
    _, buyer = api.register()
    assert api.buy(buyer, event["id"], 1).status == 201
    _, token = api.register()
    with lost_answer("PutItem") as injected:
        r = api.post(f"/events/{event['id']}/waitlist", {"section": "GA", "quantity": 1}, token=token)
    assert injected.sent == 1
    assert r.status == 201, r.body  # was 409 AlreadyWaiting: our own entry failed its condition
    again = api.post(f"/events/{event['id']}/waitlist", {"section": "GA", "quantity": 1}, token=token)
    assert again.status == 409 and again.body["code"] == "AlreadyWaiting"
