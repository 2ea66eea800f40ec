"""The feed, filled by the activity consumer in bounded fan-out steps from real stream records:
own and friends' posts newest first, what the reader may no longer see dropped, deleted posts
cleaned up, and redelivered batches changing nothing."""

from __future__ import annotations

from typing import Any

from chalicelib.store import posts as post_store
from tests.functional.test_posts import befriend, post, unfriend
from tests.support import Api


def whole_feed(api: Api, token: str, limit: int = 3) -> list[dict[str, Any]]:
    items, cursor = [], None
    while True:
        r = api.get(f"/posts?limit={limit}" + (f"&cursor={cursor}" if cursor else ""), token=token)
        assert r.status == 200, r.body
        items += r.body["items"]
        cursor = r.body["next_cursor"]
        if not cursor:
            return items


def newest_first(posts: list[dict[str, Any]]) -> list[str]:
    return [p["id"] for p in sorted(posts, key=lambda p: (p["created_at"], p["id"]), reverse=True)]


def steps_of(records: list[dict[str, Any]], kind: str) -> dict[str, int]:
    """Fan-out steps per job of one kind, from the records the consumers were given."""
    jobs: dict[str, int] = {}
    for record in records:
        image = record["dynamodb"].get("NewImage") or {}
        step = record["eventName"] == "INSERT" and image.get("type", {}).get("S") == "fanout_step"
        if step and image["kind"]["S"] == kind:
            jobs[image["job_id"]["S"]] = jobs.get(image["job_id"]["S"], 0) + 1
    return jobs


def notifications(api: Api, token: str) -> list[dict[str, Any]]:
    """The notifications about posts."""
    r = api.get("/notifications?limit=100", token=token)
    assert r.status == 200, r.body
    return [n for n in r.body["items"] if n["kind"].startswith("post_")]  # not friends' own


def test_the_feed_holds_own_and_friends_posts_newest_first(api, stream, small_pages):
    reader = api.register()
    friends = [api.register() for _ in range(3)]
    stranger = api.register()
    for friend in friends:
        befriend(api, reader, friend)
    others = [api.register() for _ in range(3)]
    for other in others:  # the first friend has four friends: a fan-out of several steps
        befriend(api, friends[0], other)
    stream.flush()
    mine = []
    for round_ in range(2):
        for who in [reader, *friends, stranger]:
            mine.append((who, post(api, who[1], f"round {round_}")))
    records = stream.flush()
    feed_jobs = steps_of(records, "post_feed")
    assert len(feed_jobs) == 10 and max(feed_jobs.values()) >= 2, feed_jobs  # 4 friends, 2 a step
    expected = newest_first([p for who, p in mine if who is not stranger])
    feed = whole_feed(api, reader[1], limit=3)
    assert [p["id"] for p in feed] == expected  # no duplicates, none missed, across pages
    assert {p["author_id"] for p in feed} == {reader[0]["id"]} | {f[0]["id"] for f in friends}
    first_friend_posts = newest_first([p for who, p in mine if who is friends[0]])
    for other in others:  # reached by the later steps
        assert [p["id"] for p in whole_feed(api, other[1], 100)] == first_friend_posts
    assert [p["id"] for p in whole_feed(api, stranger[1], 100)] == newest_first(
        [p for who, p in mine if who is stranger]
    )


def test_an_unfriended_author_disappears_and_a_deleted_post_is_cleaned_up(api, stream, small_pages):
    reader, alice, bob = api.register(), api.register(), api.register()
    befriend(api, reader, alice)
    befriend(api, reader, bob)
    befriend(api, alice, bob)
    stream.flush()
    a1, a2 = post(api, alice[1], "a1"), post(api, alice[1], "a2")
    b1 = post(api, bob[1], "b1")
    for who in (reader, alice):
        assert api.put(f"/posts/{b1['id']}/like", token=who[1]).status == 200
        assert api.post(f"/posts/{b1['id']}/comments", {"body": "nice"}, token=who[1]).status == 201
    stream.flush()
    assert [p["id"] for p in whole_feed(api, reader[1])] == [b1["id"], a2["id"], a1["id"]]
    unfriend(api, reader, alice)
    assert [p["id"] for p in whole_feed(api, reader[1])] == [b1["id"]]  # at once, before any stream work
    stream.flush()
    assert [p["id"] for p in whole_feed(api, reader[1])] == [b1["id"]]
    assert len(post_store.partition_page(b1["id"], 100, None).items) > 4  # the post, 3 feed entries, likes
    assert api.delete(f"/posts/{b1['id']}", token=bob[1]).status == 204
    assert whole_feed(api, reader[1]) == [] and [p["id"] for p in whole_feed(api, alice[1])] == [a2["id"], a1["id"]]
    records = stream.flush()
    assert sum(steps_of(records, "post_cleanup").values()) >= 3  # bounded pages of 2
    assert post_store.partition_page(b1["id"], 100, None).items == []  # feed entries, likes, notices
    assert post_store.comments_page(b1["id"], 100, None).items == []


def test_redelivered_records_change_nothing(api, stream):
    author, reader = api.register(), api.register()
    befriend(api, author, reader)
    stream.flush()
    the_post = post(api, author[1], "Tickets on sale!")
    assert api.put(f"/posts/{the_post['id']}/like", token=reader[1]).status == 200
    assert api.post(f"/posts/{the_post['id']}/comments", {"body": "Going"}, token=reader[1]).status == 201
    for _ in range(30):  # every batch delivered twice, as Lambda may
        records = stream.read()
        if not records:
            break
        stream.both(records)
        stream.both(records)
    assert [n["kind"] for n in notifications(api, author[1])] == ["post_commented", "post_liked"]
    assert notifications(api, reader[1]) == []
    feed = whole_feed(api, reader[1], 100)
    assert [p["id"] for p in feed] == [the_post["id"]]
    assert (feed[0]["like_count"], feed[0]["comment_count"], feed[0]["liked_by_me"]) == (1, 1, True)


def test_like_unlike_like_tells_the_author_once_and_own_actions_never(api, stream):
    author, fan = api.register(), api.register()
    befriend(api, author, fan)
    the_post = post(api, author[1])
    like = f"/posts/{the_post['id']}/like"
    assert api.put(like, token=fan[1]).status == 200
    stream.flush()
    for _ in range(3):
        assert api.delete(like, token=fan[1]).status == 204
        assert api.put(like, token=fan[1]).status == 200
        stream.flush()
    assert api.put(like, token=author[1]).status == 200
    assert api.post(f"/posts/{the_post['id']}/comments", {"body": "mine"}, token=author[1]).status == 201
    stream.flush()
    told = notifications(api, author[1])
    assert [n["kind"] for n in told] == ["post_liked"], told
    assert told[0]["data"] == {"post_id": the_post["id"], "user_id": fan[0]["id"]}
    assert api.get(f"/posts/{the_post['id']}", token=fan[1]).body["like_count"] == 2


def test_a_new_friend_gets_the_latest_posts(api, stream):
    alice, bob = api.register(), api.register()
    alice_posts = [post(api, alice[1], f"a{i}") for i in range(22)]
    bob_post = post(api, bob[1], "b")
    stream.flush()
    befriend(api, alice, bob)
    stream.flush()
    bob_feed = [p["id"] for p in whole_feed(api, bob[1], 100)]
    assert bob_feed == [bob_post["id"], *newest_first(alice_posts)[:20]]
    assert [p["id"] for p in whole_feed(api, alice[1], 100)] == [bob_post["id"], *newest_first(alice_posts)]
