"""The activity consumer: notifications in-app and by email, fed real stream records."""

from __future__ import annotations

from tests.streams.conftest import sent_mail
from tests.support import in_days


def kinds(api, token, unread=False):
    path = "/notifications" + ("?unread=true" if unread else "")
    r = api.get(path, token=token)
    assert r.status == 200, r.body
    return [n["kind"] for n in r.body["items"]]


def test_buyer_and_organizer_hear_of_an_order_once(api, stream):
    _org_user, org = api.register("organizer")
    _buyer_user, buyer = api.register("buyer")
    event = api.create_event(org)
    order = api.buy(buyer, event["id"], 2).body
    records = stream.read()
    stream.both(records)
    stream.both(records)  # redelivered: nothing new, no second email
    assert kinds(api, buyer) == ["order_confirmed"]
    assert kinds(api, org) == ["ticket_sold"]
    n = api.get("/notifications", token=buyer).body["items"][0]
    assert n["data"] == {"order_id": order["id"], "event_id": event["id"]} and n["read"] is False
    assert "Midnight Jazz" in n["title"]
    mails = sent_mail()
    assert sorted(m.destinations["ToAddresses"][0] for m in mails) == ["buyer@example.com", "organizer@example.com"]
    assert any("AUD 100.00" in m.body for m in mails)


def test_cancelling_an_order_notifies_the_buyer(api, stream):
    _, org = api.register()
    _, buyer = api.register()
    event = api.create_event(org)
    order = api.buy(buyer, event["id"]).body
    api.post(f"/orders/{order['id']}/cancel", token=buyer)
    stream.flush()
    assert kinds(api, buyer) == ["order_cancelled", "order_confirmed"]


def test_event_changes_and_cancellation_reach_every_ticket_holder(api, stream):
    _, org = api.register()
    holders = [api.register()[1] for _ in range(3)]
    _, bystander = api.register()
    event = api.create_event(org)
    for token in holders:
        api.buy(token, event["id"])
    api.patch(f"/events/{event['id']}", {"description": "only the description"}, token=org)
    api.patch(f"/events/{event['id']}", {"starts_at": in_days(60)}, token=org)
    stream.flush()
    for token in holders:
        assert kinds(api, token) == ["event_changed", "order_confirmed"]
    assert kinds(api, bystander) == []
    api.delete(f"/events/{event['id']}", token=org)
    stream.flush()
    for token in holders:
        assert kinds(api, token)[:2] in (["event_cancelled", "order_cancelled"], ["order_cancelled", "event_cancelled"])
    assert kinds(api, bystander) == []


def test_read_and_unread(api, stream):
    _, org = api.register()
    _, buyer = api.register()
    event = api.create_event(org)
    for _ in range(2):
        api.buy(buyer, event["id"])
    stream.flush()
    first = api.get("/notifications", token=buyer).body["items"][0]
    r = api.post(f"/notifications/{first['id']}/read", token=buyer)
    assert r.status == 200 and r.body["read"] is True and r.body["read_at"]
    assert api.post(f"/notifications/{first['id']}/read", token=buyer).status == 200  # idempotent
    unread = api.get("/notifications?unread=true", token=buyer).body["items"]
    assert len(unread) == 1 and unread[0]["id"] != first["id"]
    assert api.post(f"/notifications/{first['id']}/read", token=org).status == 404
    assert api.get("/notifications?unread=maybe", token=buyer).status == 400
    assert api.get("/notifications").status == 401


def test_unread_pages_read_a_bounded_slice(api, stream):
    _, org = api.register()
    _, buyer = api.register()
    event = api.create_event(org, max_tickets_per_order=1)
    for _ in range(5):
        api.buy(buyer, event["id"])
    stream.flush()
    items = api.get("/notifications?limit=10", token=buyer).body["items"]
    for n in items[:4]:  # the four newest are read
        api.post(f"/notifications/{n['id']}/read", token=buyer)
    first = api.get("/notifications?unread=true&limit=2", token=buyer).body
    assert first["items"] == [] and first["next_cursor"]  # a short page, not a scan of the partition
    seen, cursor = [], first["next_cursor"]
    while cursor:
        page = api.get(f"/notifications?unread=true&limit=2&cursor={cursor}", token=buyer).body
        seen += [n["id"] for n in page["items"]]
        cursor = page["next_cursor"]
    assert seen == [items[4]["id"]]


def test_reading_concurrently_is_harmless(api, stream, monkeypatch):
    import threading
    from concurrent.futures import ThreadPoolExecutor

    from moto.core.botocore_stubber import BotocoreStubber

    # DynamoDB applies each request atomically; in-process moto does not (a deepcopy of an item
    # while another thread updates it raised "dictionary changed size during iteration" here).
    lock, call = threading.Lock(), BotocoreStubber.__call__

    def one_at_a_time(self, *args, **kwargs):
        with lock:
            return call(self, *args, **kwargs)

    monkeypatch.setattr(BotocoreStubber, "__call__", one_at_a_time)

    _, org = api.register()
    _, buyer = api.register()
    api.buy(buyer, api.create_event(org)["id"])
    stream.flush()
    n = api.get("/notifications", token=buyer).body["items"][0]
    # requests interleave (each applied whole, as DynamoDB applies them)
    with ThreadPoolExecutor(4) as pool:
        statuses = list(pool.map(lambda _: api.post(f"/notifications/{n['id']}/read", token=buyer).status, range(8)))
    assert statuses == [200] * 8
    assert api.get("/notifications?unread=true", token=buyer).body["items"] == []


def test_mail_ses_refuses_fails_no_record_and_holds_back_no_one(api, stream, monkeypatch):
    from chalicelib.settings import reset_settings
    from chalicelib.store.notifications import Notification

    _, org = api.register()
    _, buyer = api.register()
    event = api.create_event(org)
    api.buy(buyer, event["id"])
    monkeypatch.setenv("MAIL_FROM", "not-verified@elsewhere.example")  # SES: MessageRejected, for good
    reset_settings()
    assert stream.deliver("activity", stream.read()) == {"batchItemFailures": []}
    assert kinds(api, buyer) == ["order_confirmed"] and kinds(api, org) == ["ticket_sold"]
    assert sent_mail() == []
    errors = [n.email_error for n in Notification.scan()]  # (a test may look at the whole table)
    assert len(errors) == 2 and all(e.startswith("MessageRejected") for e in errors)
    monkeypatch.undo()
    reset_settings()


def test_notifications_of_one_minute_keep_their_order_when_the_record_time_is_rounded(api, stream):
    """DynamoDB Local rounds ApproximateCreationDateTime down to the minute (AWS to the second):
    the notifications of one minute still list newest first, by the item's own time."""
    _, org = api.register()
    _, buyer = api.register()
    event = api.create_event(org)
    order = api.buy(buyer, event["id"]).body
    assert api.post(f"/orders/{order['id']}/cancel", token=buyer).status == 200
    for _ in range(10):
        records = stream.read()
        if not records:
            break
        for record in records:
            at = float(record["dynamodb"]["ApproximateCreationDateTime"])
            record["dynamodb"]["ApproximateCreationDateTime"] = at - at % 60
        stream.both(records)
    assert kinds(api, buyer) == ["order_cancelled", "order_confirmed"]
