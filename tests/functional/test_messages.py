"""Private messages through the HTTP front door: friends only, bounded bodies, conversations read
newest first by their two participants only. (The conversation list is a stream projection:
tests/streams/test_social_notifications.py.)"""

from __future__ import annotations

import pytest

from tests.functional.test_friends import befriend


@pytest.fixture
def friends(api):
    """Ann and Bob are friends; Eve is friends with nobody. (user, token) each."""
    ann, bob, eve = api.register(), api.register(), api.register()
    befriend(api, ann, bob)
    return ann, bob, eve


def send(api, token, to, body, **kw):
    return api.post("/messages", {"to_user_id": to, "body": body}, token=token, **kw)


def bodies(api, token, other_id, query=""):
    r = api.get(f"/conversations/{other_id}/messages{query}", token=token)
    assert r.status == 200, r.body
    return [m["body"] for m in r.body["items"]]


def test_friends_message_each_other_and_read_newest_first(api, friends):
    (ann, ann_t), (bob, bob_t), _ = friends
    r = send(api, ann_t, bob["id"], "  hello Bob  ")
    assert r.status == 201, r.body
    assert r.body["body"] == "hello Bob"  # stripped
    assert (r.body["from_user_id"], r.body["to_user_id"]) == (ann["id"], bob["id"])
    assert r.body["id"] and r.body["created_at"].endswith("Z")
    assert send(api, bob_t, ann["id"], "hi Ann").status == 201
    assert send(api, ann_t, bob["id"], "lunch?").status == 201
    assert bodies(api, ann_t, bob["id"]) == ["lunch?", "hi Ann", "hello Bob"]
    assert bodies(api, bob_t, ann["id"]) == ["lunch?", "hi Ann", "hello Bob"]


def test_messages_only_to_friends(api, friends):
    (ann, ann_t), (bob, _), (eve, eve_t) = friends
    for token, to in ((eve_t, ann["id"]), (ann_t, eve["id"])):
        r = send(api, token, to, "hello?")
        assert (r.status, r.body["code"]) == (403, "NotFriends"), r.body
    assert send(api, ann_t, "NOSUCHUSER", "hello?").status == 404
    me = send(api, ann_t, ann["id"], "note to self")
    assert me.status == 400 and me.body["code"] == "CannotMessageSelf"
    assert send(api, None, bob["id"], "hello").status == 401
    r = api.request(
        "POST", "/messages", {"to_user_id": bob["id"], "body": "x"}, headers={"Authorization": "Bearer junk"}
    )
    assert r.status == 401
    # A pending request is not a friendship.
    assert api.post("/friends/requests", {"user_id": ann["id"]}, token=eve_t).status == 201
    assert send(api, eve_t, ann["id"], "hello?").status == 403


@pytest.mark.parametrize(
    "body",
    [
        {"to_user_id": "x", "body": ""},
        {"to_user_id": "x", "body": "   \n\t "},
        {"to_user_id": "x", "body": "x" * 2001},
        {"to_user_id": "x", "body": 5},
        {"to_user_id": "x"},
        {"body": "hello"},
        {"to_user_id": "", "body": "hello"},
        {"to_user_id": "x", "body": "hello", "subject": "hi"},
    ],
)
def test_bad_message_bodies_are_400(api, friends, body):
    (_, ann_t), _, _ = friends
    r = api.post("/messages", body, token=ann_t)
    assert r.status == 400 and r.body["code"] == "ValidationError" and r.body["details"], r.body


def test_bodies_up_to_2000_characters(api, friends):
    (_, ann_t), (bob, _), _ = friends
    r = send(api, ann_t, bob["id"], "é" * 2000)
    assert r.status == 201 and len(r.body["body"]) == 2000
    assert send(api, ann_t, bob["id"], "  " + "x" * 2000 + "  ").status == 201  # stripped first


def test_only_the_two_participants_read_a_conversation(api, friends):
    (ann, ann_t), (bob, bob_t), (_eve, eve_t) = friends
    send(api, ann_t, bob["id"], "secret")
    # The path names the other participant: Eve reads her own (empty) conversation with each.
    assert bodies(api, eve_t, ann["id"]) == [] and bodies(api, eve_t, bob["id"]) == []
    assert api.get("/conversations/NOSUCHUSER/messages", token=ann_t).status == 404
    assert api.get(f"/conversations/{ann['id']}/messages", token=ann_t).status == 404  # yourself
    assert api.get(f"/conversations/{bob['id']}/messages").status == 401
    assert api.get(f"/conversations/{bob['id']}/messages?limit=101", token=ann_t).status == 400
    # A cursor of Ann and Bob's conversation does not open another one.
    for i in range(3):
        send(api, ann_t, bob["id"], f"m{i}")
    cursor = api.get(f"/conversations/{bob['id']}/messages?limit=1", token=ann_t).body["next_cursor"]
    assert cursor
    assert api.get(f"/conversations/{ann['id']}/messages?cursor={cursor}", token=eve_t).status == 400
    assert api.get(f"/conversations/{ann['id']}/messages?cursor={cursor}", token=bob_t).status == 200


def test_a_conversation_is_paginated_newest_first(api, friends):
    (_, ann_t), (bob, _bob_t), _ = friends
    for i in range(5):
        assert send(api, ann_t, bob["id"], f"m{i}").status == 201
    seen, cursor = [], None
    while True:
        query = "?limit=2" + (f"&cursor={cursor}" if cursor else "")
        page = api.get(f"/conversations/{bob['id']}/messages{query}", token=ann_t).body
        assert len(page["items"]) <= 2
        seen += [m["body"] for m in page["items"]]
        cursor = page["next_cursor"]
        if not cursor:
            break
    assert seen == ["m4", "m3", "m2", "m1", "m0"]


def test_messages_stay_readable_after_unfriending(api, friends):
    (ann, ann_t), (bob, bob_t), _ = friends
    send(api, ann_t, bob["id"], "before")
    assert api.delete(f"/friends/{ann['id']}", token=bob_t).status == 204
    assert bodies(api, ann_t, bob["id"]) == ["before"] and bodies(api, bob_t, ann["id"]) == ["before"]
    r = send(api, ann_t, bob["id"], "after")
    assert (r.status, r.body["code"]) == (403, "NotFriends")


def test_an_idempotency_key_sends_once(api, friends):
    (_, ann_t), (bob, _), _ = friends
    key = {"Idempotency-Key": "msg-1"}
    first = send(api, ann_t, bob["id"], "only once", headers=key)
    again = send(api, ann_t, bob["id"], "only once", headers=key)
    assert first.status == again.status == 201 and again.body == first.body
    other = send(api, ann_t, bob["id"], "something else", headers=key)
    assert other.status == 409 and other.body["code"] == "IdempotencyKeyReused"
    assert bodies(api, ann_t, bob["id"]) == ["only once"]
    assert send(api, ann_t, bob["id"], "x", headers={"Idempotency-Key": "x" * 300}).status == 400
    assert send(api, ann_t, bob["id"], "only once").status == 201  # without a key: another message
    assert bodies(api, ann_t, bob["id"]) == ["only once", "only once"]
