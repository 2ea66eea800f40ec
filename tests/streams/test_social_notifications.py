"""Friends and messages through the activity consumer: notifications for a request, an acceptance
and a message; the conversation list (latest message, unread count, newest first) kept from the
message stream, unchanged by redelivery and by reading before the projection catches up."""

from __future__ import annotations

from chalicelib.domain import messages
from tests.functional.test_friends import befriend


def notifications(api, token):
    r = api.get("/notifications?limit=100", token=token)
    assert r.status == 200, r.body
    return r.body["items"]


def conversations(api, token, query=""):
    r = api.get(f"/conversations{query}", token=token)
    assert r.status == 200, r.body
    return r.body


def summary(api, token):
    return [(c["user_id"], c["last_message"]["body"], c["unread"]) for c in conversations(api, token)["items"]]


def send(api, token, to, body):
    r = api.post("/messages", {"to_user_id": to, "body": body}, token=token)
    assert r.status == 201, r.body
    return r.body


def test_request_and_acceptance_are_notified_once(api, stream):
    (ann, ann_t), (bob, bob_t) = api.register(), api.register()
    rid = api.post("/friends/requests", {"user_id": bob["id"]}, token=ann_t).body["id"]
    records = stream.flush()
    stream.both(records)  # redelivered: nothing new
    [told] = notifications(api, bob_t)
    assert told["kind"] == "friend_request" and told["data"] == {"request_id": rid, "from_user_id": ann["id"]}
    assert ann["name"] in told["title"]
    assert notifications(api, ann_t) == []
    assert api.post(f"/friends/requests/{rid}/accept", token=bob_t).status == 200
    stream.both(stream.flush())
    [accepted] = notifications(api, ann_t)
    assert accepted["kind"] == "friend_accepted" and accepted["data"] == {"request_id": rid, "user_id": bob["id"]}
    assert len(notifications(api, bob_t)) == 1  # nothing more for Bob


def test_declined_and_cancelled_requests_notify_nobody_more(api, stream):
    (ann, ann_t), (bob, bob_t) = api.register(), api.register()
    rid = api.post("/friends/requests", {"user_id": bob["id"]}, token=ann_t).body["id"]
    assert api.post(f"/friends/requests/{rid}/decline", token=bob_t).status == 204
    rid = api.post("/friends/requests", {"user_id": ann["id"]}, token=bob_t).body["id"]
    assert api.delete(f"/friends/requests/{rid}", token=bob_t).status == 204
    stream.flush()
    assert [n["kind"] for n in notifications(api, bob_t)] == ["friend_request"]
    assert [n["kind"] for n in notifications(api, ann_t)] == ["friend_request"]


def test_the_conversation_list_counts_unread_and_resets_on_reading(api, stream):
    ann, bob, cat = api.register(), api.register(), api.register()
    befriend(api, ann, bob)
    befriend(api, ann, cat)
    (a, ann_t), (b, bob_t), (c, cat_t) = ann, bob, cat
    send(api, bob_t, a["id"], "hi from Bob")
    send(api, bob_t, a["id"], "are you there?")
    first = send(api, cat_t, a["id"], "hi from Cat")
    stream.flush()
    assert summary(api, ann_t) == [(c["id"], "hi from Cat", 1), (b["id"], "are you there?", 2)]
    entry = conversations(api, ann_t)["items"][0]
    assert entry["user"]["id"] == c["id"] and "email" not in entry["user"]
    assert entry["last_message"] == {
        "id": first["id"],
        "from_user_id": c["id"],
        "body": "hi from Cat",
        "created_at": first["created_at"],
    }
    assert summary(api, bob_t) == [(a["id"], "are you there?", 0)]  # your own messages are not unread

    # Bob writes again: his conversation moves to the top, one more unread.
    send(api, bob_t, a["id"], "hello?")
    stream.flush()
    assert summary(api, ann_t) == [(b["id"], "hello?", 3), (c["id"], "hi from Cat", 1)]

    # Reading (the first page) marks it read; a later page does not matter.
    page = api.get(f"/conversations/{b['id']}/messages?limit=1", token=ann_t).body
    assert summary(api, ann_t) == [(b["id"], "hello?", 0), (c["id"], "hi from Cat", 1)]
    api.get(f"/conversations/{b['id']}/messages?limit=1&cursor={page['next_cursor']}", token=ann_t)
    assert summary(api, ann_t)[0] == (b["id"], "hello?", 0)

    # Ann answers: her own message leaves her count at 0 and is unread for Bob.
    send(api, ann_t, b["id"], "yes!")
    stream.flush()
    assert summary(api, ann_t)[0] == (b["id"], "yes!", 0)
    assert summary(api, bob_t) == [(a["id"], "yes!", 1)]
    kinds = [n["kind"] for n in notifications(api, ann_t)]
    assert kinds.count("new_message") == 4
    told = next(n for n in notifications(api, bob_t) if n["kind"] == "new_message")
    assert told["body"] == "yes!" and told["data"]["from_user_id"] == a["id"]


def test_redelivered_records_change_no_count(api, stream):
    ann, bob = api.register(), api.register()
    befriend(api, ann, bob)
    (a, ann_t), (b, bob_t) = ann, bob
    stream.flush()
    for i in range(3):
        send(api, bob_t, a["id"], f"m{i}")
    records = stream.read()
    stream.both(records)
    stream.both(records)  # Lambda may deliver a batch twice
    stream.both(records[:1])  # or an old record again, after newer ones
    stream.flush()  # what the consumers wrote themselves
    assert summary(api, ann_t) == [(b["id"], "m2", 3)]
    assert [n["kind"] for n in notifications(api, ann_t)].count("new_message") == 3
    assert summary(api, bob_t) == [(a["id"], "m2", 0)]


def test_reading_before_the_projection_does_not_count_it_later(api, stream):
    ann, bob = api.register(), api.register()
    befriend(api, ann, bob)
    (a, ann_t), (b, bob_t) = ann, bob
    send(api, bob_t, a["id"], "first")
    stream.flush()
    send(api, bob_t, a["id"], "second")  # not yet projected when Ann reads it
    assert [m["body"] for m in api.get(f"/conversations/{b['id']}/messages", token=ann_t).body["items"]] == [
        "second",
        "first",
    ]
    stream.flush()
    assert summary(api, ann_t) == [(b["id"], "second", 0)]


def test_a_message_projected_after_what_was_read_stays_unread(api, stream):
    """Ann read up to m0 while m1 and m2 were projected: they stay unread (2), not 0."""
    ann, bob = api.register(), api.register()
    befriend(api, ann, bob)
    (a, _), (b, bob_t) = ann, bob
    (_, ann_t) = ann
    sent = [send(api, bob_t, a["id"], f"m{i}") for i in range(3)]
    send(api, ann_t, b["id"], "mine")  # Ann's own messages never count
    stream.flush()
    assert summary(api, ann_t)[0][2] == 3
    messages._mark_read(a["id"], b["id"], sent[0]["id"])  # as if the page read had raced them
    assert summary(api, ann_t) == [(b["id"], "mine", 2)]
    messages._mark_read(a["id"], b["id"], sent[0]["id"])  # read_up_to only moves forward
    assert summary(api, ann_t)[0][2] == 2
    api.get(f"/conversations/{b['id']}/messages", token=ann_t)
    assert summary(api, ann_t)[0][2] == 0


def test_conversations_are_paginated_newest_first(api, stream):
    me = api.register()
    others = [api.register() for _ in range(5)]
    for other in others:
        befriend(api, me, other)
    for other in others:
        send(api, other[1], me[0]["id"], f"from {other[0]['username']}")
    stream.flush()
    _, me_t = me
    seen, cursor = [], None
    while True:
        page = conversations(api, me_t, "?limit=2" + (f"&cursor={cursor}" if cursor else ""))
        assert len(page["items"]) <= 2
        seen += [c["user_id"] for c in page["items"]]
        cursor = page["next_cursor"]
        if not cursor:
            break
    assert seen == [o[0]["id"] for o in reversed(others)]
    assert api.get("/conversations?cursor=forged", token=me_t).status == 400
    assert api.get("/conversations").status == 401
    assert conversations(api, others[0][1])["items"][0]["user_id"] == me[0]["id"]
