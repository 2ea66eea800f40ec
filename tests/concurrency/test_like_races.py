"""Likes race over real HTTP on the running local cloud (DynamoDB Local): the like item
(``attribute_not_exists``) and the post's counter move in one transaction, so parallel likes by
one user count once, parallel likes by many users count each, and parallel unlikes undo exactly
what was done; every answer is a 2xx, never a 5xx."""

from __future__ import annotations

import threading
from collections import Counter
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from functools import partial
from typing import Any

import pytest

from tests.concurrency.conftest import api_of, running_cloud
from tests.support import Api, Resp

pytestmark = pytest.mark.local_cloud

N = 20


@pytest.fixture(scope="module")
def cloud():
    with running_cloud("dynamodb-local") as running:
        yield running


def at_once(calls: list[Callable[[], Resp]]) -> Counter[int]:
    """Run the calls in threads released together by a barrier; count their statuses."""
    start = threading.Barrier(len(calls))

    def run(call: Callable[[], Resp]) -> int:
        start.wait()
        return call().status

    with ThreadPoolExecutor(max_workers=len(calls)) as pool:
        return Counter(pool.map(run, calls))


def befriend(api: Api, a: tuple[dict[str, Any], str], b: tuple[dict[str, Any], str]) -> None:
    r = api.post("/friends/requests", {"user_id": b[0]["id"]}, token=a[1])
    assert r.status == 201, r.body
    assert api.post(f"/friends/requests/{r.body['id']}/accept", token=b[1]).status == 200


def a_post(api: Api, fans: int) -> tuple[str, str, list[tuple[dict[str, Any], str]]]:
    author = api.register()
    friends = [api.register() for _ in range(fans)]
    for friend in friends:
        befriend(api, author, friend)
    r = api.post("/posts", {"body": "Who is in?"}, token=author[1])
    assert r.status == 201, r.body
    return r.body["id"], author[1], friends


def likes(api: Api, post_id: str, token: str) -> int:
    r = api.get(f"/posts/{post_id}", token=token)
    assert r.status == 200, r.body
    count: int = r.body["like_count"]
    return count


def test_parallel_likes_by_one_user_count_once(cloud):
    api = api_of(cloud)
    post_id, author, (fan,) = a_post(api, 1)
    path = f"/posts/{post_id}/like"
    assert at_once([partial(api.put, path, token=fan[1]) for _ in range(N)]) == {200: N}
    assert likes(api, post_id, author) == 1
    assert api.get(f"/posts/{post_id}", token=fan[1]).body["liked_by_me"] is True
    assert at_once([partial(api.delete, path, token=fan[1]) for _ in range(N)]) == {204: N}
    assert likes(api, post_id, author) == 0


def test_many_users_liking_at_once_count_each(cloud):
    api = api_of(cloud)
    post_id, author, fans = a_post(api, N)
    path = f"/posts/{post_id}/like"
    assert at_once([partial(api.put, path, token=fan[1]) for fan in fans]) == {200: N}
    assert likes(api, post_id, author) == N
    assert at_once([partial(api.delete, path, token=fan[1]) for fan in fans]) == {204: N}
    assert likes(api, post_id, author) == 0
