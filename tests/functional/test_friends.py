"""Friend requests and friendships through the HTTP front door: one pending request per pair
whichever side asked, symmetric friendships, and who may do what with a request."""

from __future__ import annotations

import pytest


@pytest.fixture
def trio(api):
    """Three users: (user, token) each."""
    return [api.register() for _ in range(3)]


def ask(api, token, user_id):
    return api.post("/friends/requests", {"user_id": user_id}, token=token)


def befriend(api, a, b):
    (_, token_a), (user_b, token_b) = a, b
    r = ask(api, token_a, user_b["id"])
    assert r.status == 201, r.body
    accepted = api.post(f"/friends/requests/{r.body['id']}/accept", token=token_b)
    assert accepted.status == 200, accepted.body
    return accepted.body


def friend_ids(api, token):
    r = api.get("/friends", token=token)
    assert r.status == 200, r.body
    return [f["user_id"] for f in r.body["items"]]


def test_request_accept_and_a_symmetric_friendship(api, trio):
    (ann, ann_t), (bob, bob_t), _ = trio
    r = ask(api, ann_t, bob["id"])
    assert r.status == 201, r.body
    request = r.body
    assert r.headers["location"] == f"/friends/requests/{request['id']}"
    assert request["from_user_id"] == ann["id"] and request["to_user_id"] == bob["id"]
    assert request["status"] == "pending" and request["direction"] == "outgoing"
    assert request["user"]["id"] == bob["id"] and "email" not in request["user"]

    incoming = api.get("/friends/requests?direction=incoming", token=bob_t).body
    assert [(i["id"], i["direction"], i["user"]["id"]) for i in incoming["items"]] == [
        (request["id"], "incoming", ann["id"])
    ]
    outgoing = api.get("/friends/requests?direction=outgoing", token=ann_t).body
    assert [i["id"] for i in outgoing["items"]] == [request["id"]]
    assert api.get("/friends/requests?direction=outgoing", token=bob_t).body["items"] == []

    accepted = api.post(f"/friends/requests/{request['id']}/accept", token=bob_t)
    assert accepted.status == 200, accepted.body
    assert accepted.body["user_id"] == ann["id"] and accepted.body["user"]["username"] == ann["username"]
    assert accepted.body["since"]
    # A retry of the accept whose answer was lost: the same friendship, not an error.
    again = api.post(f"/friends/requests/{request['id']}/accept", token=bob_t)
    assert again.status == 200 and again.body == accepted.body

    assert friend_ids(api, ann_t) == [bob["id"]] and friend_ids(api, bob_t) == [ann["id"]]
    friend = api.get("/friends", token=ann_t).body["items"][0]
    assert friend["user"]["name"] == bob["name"] and "email" not in friend["user"]
    assert api.get("/friends/requests", token=bob_t).body == {"items": [], "next_cursor": None}
    assert api.get("/friends/requests", token=ann_t).body["items"] == []


def test_one_request_per_pair_whichever_side_asks(api, trio):
    (ann, ann_t), (bob, bob_t), _ = trio
    first = ask(api, ann_t, bob["id"]).body
    again = ask(api, ann_t, bob["id"])
    assert again.status == 409 and again.body["code"] == "RequestPending"
    assert again.body["request_id"] == first["id"] and again.body["direction"] == "outgoing"
    crossed = ask(api, bob_t, ann["id"])
    assert crossed.status == 409 and crossed.body["code"] == "RequestPending"
    assert crossed.body["request_id"] == first["id"] and crossed.body["direction"] == "incoming"
    assert api.post(f"/friends/requests/{first['id']}/accept", token=bob_t).status == 200
    for token, other in ((ann_t, bob), (bob_t, ann)):
        r = ask(api, token, other["id"])
        assert r.status == 409 and r.body["code"] == "AlreadyFriends", r.body


def test_request_refusals(api, trio):
    (ann, ann_t), _, _ = trio
    assert api.post("/friends/requests", {"user_id": "NOSUCHUSER"}, token=ann_t).status == 404
    me = ask(api, ann_t, ann["id"])
    assert me.status == 400 and me.body["code"] == "CannotBefriendSelf"
    assert api.post("/friends/requests", {"user_id": ""}, token=ann_t).status == 400
    assert api.post("/friends/requests", {"user_id": 7}, token=ann_t).status == 400
    assert api.post("/friends/requests", {"user_id": "x", "note": "hi"}, token=ann_t).status == 400
    assert api.post("/friends/requests", {"user_id": ann["id"]}).status == 401
    assert api.get("/friends/requests?direction=sideways", token=ann_t).status == 400
    assert api.get("/friends/requests?cursor=forged", token=ann_t).status == 400
    assert api.get("/friends?limit=0", token=ann_t).status == 400


def test_who_may_accept_decline_and_cancel(api, trio):
    (_, ann_t), (bob, bob_t), (_, eve_t) = trio
    rid = ask(api, ann_t, bob["id"]).body["id"]
    base = f"/friends/requests/{rid}"
    # A stranger does not learn the request exists.
    for method, path in (("POST", f"{base}/accept"), ("POST", f"{base}/decline"), ("DELETE", base)):
        r = api.request(method, path, token=eve_t)
        assert (r.status, r.body["code"]) == (404, "NotFound"), (method, path, r.body)
        assert api.request(method, path).status == 401
        assert api.request(method, path.replace(rid, "NOSUCHREQUEST"), token=bob_t).status == 404
    # The sender may not accept or decline their own request; the addressee may not cancel it.
    assert api.post(f"{base}/accept", token=ann_t).status == 403
    assert api.post(f"{base}/decline", token=ann_t).status == 403
    assert api.delete(base, token=bob_t).status == 403
    assert api.get("/friends/requests", token=bob_t).body["items"][0]["id"] == rid  # still pending


def test_decline_frees_the_pair_and_is_repeatable(api, trio):
    (ann, ann_t), (bob, bob_t), _ = trio
    rid = ask(api, ann_t, bob["id"]).body["id"]
    assert api.post(f"/friends/requests/{rid}/decline", token=bob_t).status == 204
    assert api.post(f"/friends/requests/{rid}/decline", token=bob_t).status == 204  # a retry
    late = api.post(f"/friends/requests/{rid}/accept", token=bob_t)
    assert late.status == 409 and late.body["code"] == "RequestNotPending" and late.body["request_status"] == "declined"
    assert api.delete(f"/friends/requests/{rid}", token=ann_t).status == 409
    assert api.get("/friends/requests", token=bob_t).body["items"] == []
    assert friend_ids(api, ann_t) == []
    # Declined: either side may ask again.
    again = ask(api, bob_t, ann["id"])
    assert again.status == 201 and again.body["id"] != rid


def test_cancel_withdraws_the_request(api, trio):
    (_ann, ann_t), (bob, bob_t), _ = trio
    rid = ask(api, ann_t, bob["id"]).body["id"]
    assert api.delete(f"/friends/requests/{rid}", token=ann_t).status == 204
    assert api.delete(f"/friends/requests/{rid}", token=ann_t).status == 204  # a retry
    assert api.get("/friends/requests", token=bob_t).body["items"] == []
    assert api.get("/friends/requests", token=ann_t).body["items"] == []
    late = api.post(f"/friends/requests/{rid}/accept", token=bob_t)
    assert late.status == 409 and late.body["request_status"] == "cancelled"
    assert api.post(f"/friends/requests/{rid}/decline", token=bob_t).status == 409
    assert ask(api, ann_t, bob["id"]).status == 201


def test_unfriend_removes_both_sides_and_is_idempotent(api, trio):
    a, b, c = trio
    befriend(api, a, b)
    befriend(api, a, c)
    (ann, ann_t), (bob, bob_t), (cat, _) = a, b, c
    assert sorted(friend_ids(api, ann_t)) == sorted([bob["id"], cat["id"]])
    assert api.delete(f"/friends/{ann['id']}", token=bob_t).status == 204
    assert friend_ids(api, ann_t) == [cat["id"]] and friend_ids(api, bob_t) == []
    assert api.delete(f"/friends/{ann['id']}", token=bob_t).status == 204  # again: still 204
    assert api.delete("/friends/NOSUCHUSER", token=bob_t).status == 204
    assert api.delete(f"/friends/{ann['id']}").status == 401
    # Not friends any more: a new request may be sent, by either side.
    assert ask(api, ann_t, bob["id"]).status == 201


def test_unfriend_leaves_a_pending_request_alone(api, trio):
    (ann, ann_t), (bob, bob_t), _ = trio
    rid = ask(api, ann_t, bob["id"]).body["id"]
    assert api.delete(f"/friends/{ann['id']}", token=bob_t).status == 204
    assert api.post(f"/friends/requests/{rid}/accept", token=bob_t).status == 200
    assert friend_ids(api, bob_t) == [ann["id"]]


def test_an_old_accepted_request_does_not_answer_for_a_later_friendship(api, trio):
    a, b, _ = trio
    (_ann, ann_t), (bob, bob_t) = a, b
    rid = ask(api, ann_t, bob["id"]).body["id"]
    assert api.post(f"/friends/requests/{rid}/accept", token=bob_t).status == 200
    assert api.delete(f"/friends/{bob['id']}", token=ann_t).status == 204
    late = api.post(f"/friends/requests/{rid}/accept", token=bob_t)
    assert late.status == 409 and late.body["code"] == "RequestNotPending"
    assert friend_ids(api, bob_t) == []


def test_friends_and_requests_are_paginated(api):
    me = api.register()
    others = [api.register() for _ in range(5)]
    for other in others[:3]:
        befriend(api, me, other)
    rids = [ask(api, other[1], me[0]["id"]).body["id"] for other in others[3:]]  # 2 incoming
    _, me_t = me
    out = ask(api, me_t, api.register()[0]["id"]).body["id"]  # 1 outgoing, the newest

    seen, cursor = [], None
    while True:
        page = api.get("/friends?limit=2" + (f"&cursor={cursor}" if cursor else ""), token=me_t).body
        assert len(page["items"]) <= 2
        seen += [f["user_id"] for f in page["items"]]
        cursor = page["next_cursor"]
        if not cursor:
            break
    assert sorted(seen) == sorted(o[0]["id"] for o in others[:3])

    both, cursor = [], None
    while True:
        page = api.get("/friends/requests?limit=1" + (f"&cursor={cursor}" if cursor else ""), token=me_t).body
        assert len(page["items"]) <= 1
        both += [(r["id"], r["direction"]) for r in page["items"]]
        cursor = page["next_cursor"]
        if not cursor:
            break
    assert both == [(out, "outgoing"), (rids[1], "incoming"), (rids[0], "incoming")]  # newest first
    whole = api.get("/friends/requests", token=me_t).body
    assert [r["id"] for r in whole["items"]] == [out, rids[1], rids[0]] and whole["next_cursor"] is None
    first = api.get("/friends/requests?direction=incoming&limit=1", token=me_t).body
    assert [r["id"] for r in first["items"]] == [rids[1]]
    rest = api.get(f"/friends/requests?direction=incoming&limit=1&cursor={first['next_cursor']}", token=me_t).body
    assert [r["id"] for r in rest["items"]] == [rids[0]]
    # A cursor belongs to its listing.
    assert api.get(f"/friends/requests?direction=outgoing&cursor={first['next_cursor']}", token=me_t).status == 400
