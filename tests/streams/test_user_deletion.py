"""A deleted account leaves every friend list, pending friend request and the search index: the
activity consumer reacts to the user's REMOVE record with a fan-out job (requests, then
friendships, a page a step), from real stream records, idempotent when delivered twice."""

from __future__ import annotations

from typing import Any

import boto3

from chalicelib.settings import get_settings
from chalicelib.store import friends as friend_store
from tests.functional.test_friends import ask, befriend, friend_ids
from tests.streams.conftest import Stream
from tests.streams.test_feed import steps_of
from tests.support import Api

User = tuple[dict[str, Any], str]


def request_ids(api: Api, token: str) -> list[str]:
    r = api.get("/friends/requests?limit=100", token=token)
    assert r.status == 200, r.body
    return sorted(i["id"] for i in r.body["items"])


def postings_of(user_id: str) -> list[Any]:
    """The search postings that name the user (the test may Scan; no request does)."""
    items = boto3.client("dynamodb").scan(TableName=get_settings().table_name)["Items"]
    return [i for i in items if i["type"]["S"] == "search_posting" and i["item_id"]["S"] == user_id]


def found(api: Api, token: str, q: str) -> tuple[list[str], list[str]]:
    """Who ``GET /users?q=`` and ``GET /search?type=users&q=`` find."""
    listed = api.get(f"/users?q={q}", token=token)
    searched = api.get(f"/search?type=users&q={q}", token=token)
    assert listed.status == searched.status == 200, (listed.body, searched.body)
    return [u["id"] for u in listed.body["items"]], [u["id"] for u in searched.body["items"]]


def a_social_victim(api: Api) -> dict[str, Any]:
    """A user with three friends, two requests received and two sent; and two others who are
    friends, with a request pending between two more (what the clean-up must leave alone)."""
    victim = api.register("zanzibar_vic")
    friends = [api.register() for _ in range(3)]
    senders = [api.register() for _ in range(2)]
    addressees = [api.register() for _ in range(2)]
    for friend in friends:
        befriend(api, victim, friend)
    befriend(api, friends[0], friends[1])
    incoming = [ask(api, token, victim[0]["id"]).body["id"] for _, token in senders]
    outgoing = [ask(api, victim[1], user["id"]).body["id"] for user, _ in addressees]
    unrelated = ask(api, senders[0][1], addressees[0][0]["id"]).body["id"]
    return {
        "victim": victim,
        "friends": friends,
        "senders": senders,
        "addressees": addressees,
        "requests": incoming + outgoing,
        "unrelated": unrelated,
    }


def assert_forgotten(api: Api, world: dict[str, Any]) -> None:
    victim_id = world["victim"][0]["id"]
    (f0, t0), (f1, t1), (_, t2) = world["friends"]
    assert friend_ids(api, t0) == [f1["id"]] and friend_ids(api, t1) == [f0["id"]] and friend_ids(api, t2) == []
    # Not only hidden: the edges and the pair items are gone, on both sides.
    assert friend_store.list_friends(victim_id, 100, None).items == []
    for friend, _ in world["friends"]:
        assert friend_store.get_friend(friend["id"], victim_id) is None
        assert friend_store.get_pair(friend["id"], victim_id) is None
    (_, s0_t), (_, s1_t) = world["senders"]
    (a0, a0_t), (_, a1_t) = world["addressees"]
    assert request_ids(api, s0_t) == request_ids(api, a0_t) == [world["unrelated"]]
    assert request_ids(api, s1_t) == request_ids(api, a1_t) == []
    closed = [friend_store.get_request(rid) for rid in world["requests"]]
    assert [r.status if r else None for r in closed] == ["declined", "declined", "cancelled", "cancelled"]
    assert ask(api, s0_t, a0["id"]).status == 409  # the unrelated request still stands
    _, token = world["friends"][2]
    assert found(api, token, "zanzibar") == ([], [])
    assert postings_of(victim_id) == []


def test_a_deleted_user_leaves_friend_lists_requests_and_search(api: Api, stream: Stream, small_pages: None) -> None:
    world = a_social_victim(api)
    victim, victim_token = world["victim"]
    stream.flush()
    _, token = world["friends"][2]
    assert found(api, token, "zanzibar") == ([victim["id"]], [victim["id"]])
    assert postings_of(victim["id"])
    assert api.delete(f"/users/{victim['id']}", token=victim_token).status == 204
    records = stream.flush()
    (steps,) = steps_of(records, "friends_forget_user").values()
    assert steps >= 4, steps  # four requests and three friends, two a step
    assert_forgotten(api, world)


def test_redelivered_clean_up_changes_nothing(api: Api, stream: Stream, small_pages: None) -> None:
    world = a_social_victim(api)
    victim, victim_token = world["victim"]
    stream.flush()
    assert api.delete(f"/users/{victim['id']}", token=victim_token).status == 204
    for _ in range(50):  # every batch delivered twice, as Lambda may
        records = stream.read()
        if not records:
            break
        stream.both(records)
        stream.both(records)
    assert_forgotten(api, world)


def test_a_request_accepted_after_the_deletion_is_undone_too(api: Api, stream: Stream) -> None:
    victim, victim_token = api.register()
    (friend, friend_token) = api.register()
    rid = ask(api, victim_token, friend["id"]).body["id"]
    stream.flush()
    assert api.delete(f"/users/{victim['id']}", token=victim_token).status == 204
    accepted = api.post(f"/friends/requests/{rid}/accept", token=friend_token)  # before the consumer runs
    assert accepted.status == 200, accepted.body
    assert accepted.body["user"] == {"id": victim["id"], "username": None, "name": "Deleted user", "deleted": True}
    stream.flush()
    assert friend_ids(api, friend_token) == []
    assert friend_store.get_friend(friend["id"], victim["id"]) is None
    assert friend_store.get_pair(friend["id"], victim["id"]) is None


def test_a_conversation_with_a_deleted_user_stays_readable(api: Api, stream: Stream) -> None:
    (victim, victim_token), (friend, friend_token) = api.register(), api.register()
    befriend(api, (victim, victim_token), (friend, friend_token))
    sent = api.post("/messages", {"to_user_id": friend["id"], "body": "see you at the show"}, token=victim_token)
    assert sent.status == 201, sent.body
    stream.flush()
    assert api.delete(f"/users/{victim['id']}", token=victim_token).status == 204
    stream.flush()
    (entry,) = api.get("/conversations", token=friend_token).body["items"]
    assert entry["user_id"] == victim["id"] and entry["user"]["deleted"] is True
    assert entry["user"]["name"] == "Deleted user" and entry["user"]["username"] is None
    r = api.get(f"/conversations/{victim['id']}/messages", token=friend_token)
    assert r.status == 200 and [m["body"] for m in r.body["items"]] == ["see you at the show"]
    # Someone with no conversation with the deleted user still learns nothing.
    _, stranger_token = api.register()
    assert api.get(f"/conversations/{victim['id']}/messages", token=stranger_token).status == 404
