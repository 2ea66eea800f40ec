"""Friend requests race over real HTTP on the running local cloud (DynamoDB Local): two users who
ask each other at the same moment end with one request, never two; parallel accepts of one
request make one friendship and every answer is 200 (or a clean 409), never a 5xx."""

from __future__ import annotations

import threading
from collections import Counter
from concurrent.futures import ThreadPoolExecutor
from functools import partial

import pytest

from tests.concurrency.conftest import api_of, running_cloud, wait_for

pytestmark = pytest.mark.local_cloud

PAIRS = 10
ACCEPTS = 8


@pytest.fixture(scope="module")
def cloud():
    with running_cloud("dynamodb-local") as running:
        yield running


def requests_of(api, token, direction):
    r = api.get(f"/friends/requests?direction={direction}", token=token)
    assert r.status == 200, r.body
    return r.body["items"]


def friends_of(api, token):
    r = api.get("/friends", token=token)
    assert r.status == 200, r.body
    return [f["user_id"] for f in r.body["items"]]


def at_once(calls):
    """Run the calls in threads released together by a barrier; their results in order."""
    start = threading.Barrier(len(calls))

    def run(call):
        start.wait()
        r = call()
        return r.status, r.body

    with ThreadPoolExecutor(max_workers=len(calls)) as pool:
        return list(pool.map(run, calls))


def test_crossed_requests_make_one_request(cloud):
    api = api_of(cloud)
    for _ in range(PAIRS):
        (ann, ann_t), (bob, bob_t) = api.register(), api.register()
        results = at_once(
            [
                partial(api.post, "/friends/requests", {"user_id": bob["id"]}, token=ann_t),
                partial(api.post, "/friends/requests", {"user_id": ann["id"]}, token=bob_t),
            ]
        )
        statuses = Counter(status for status, _ in results)
        assert statuses == {201: 1, 409: 1}, results
        won = next(body for status, body in results if status == 201)
        lost = next(body for status, body in results if status == 409)
        assert lost["code"] == "RequestPending" and lost["request_id"] == won["id"], results
        for token in (ann_t, bob_t):
            pending = requests_of(api, token, "incoming") + requests_of(api, token, "outgoing")
            assert [r["id"] for r in pending] == [won["id"]]
        # The addressee accepts the one request: one friendship, both sides.
        addressee = bob_t if won["to_user_id"] == bob["id"] else ann_t
        assert api.post(f"/friends/requests/{won['id']}/accept", token=addressee).status == 200
        assert friends_of(api, ann_t) == [bob["id"]] and friends_of(api, bob_t) == [ann["id"]]


def test_parallel_accepts_make_one_friendship(cloud):
    api = api_of(cloud)
    for _ in range(3):
        (ann, ann_t), (bob, bob_t) = api.register(), api.register()
        path = f"/friends/requests/{api.post('/friends/requests', {'user_id': bob['id']}, token=ann_t).body['id']}"
        results = at_once([partial(api.post, f"{path}/accept", token=bob_t)] * ACCEPTS)
        assert all(status == 200 or (status == 409 and "code" in body) for status, body in results), results
        friendships = {(body["user_id"], body["since"]) for status, body in results if status == 200}
        assert len(friendships) == 1, results  # every 200 names the one friendship
        assert friends_of(api, ann_t) == [bob["id"]] and friends_of(api, bob_t) == [ann["id"]]
        assert requests_of(api, bob_t, "incoming") == []
        # The stream makes one acceptance notice for Ann, however many accepts there were.
        notices = wait_for(
            lambda: api.get("/notifications", token=ann_t).body["items"],  # noqa: B023
            lambda items: any(n["kind"] == "friend_accepted" for n in items),
        )
        assert [n["kind"] for n in notices].count("friend_accepted") == 1
