"""Posts, re-shares, comments and likes through the HTTP front door, with who may do what."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import pytest
from click.testing import CliRunner

from chalicelib.cli import cli
from tests.support import PASSWORD, Api


def admin_token(api: Api) -> str:
    CliRunner().invoke(
        cli,
        ["create-admin", "--email", "mod@example.com", "--username", "moderator", "--name", "Mod"],
        env={"BOXOFFICE_ADMIN_PASSWORD": PASSWORD},
    )
    r = api.post("/auth/login", {"username": "moderator", "password": PASSWORD})
    assert r.status == 200, r.body
    token: str = r.body["access_token"]
    return token


def befriend(api: Api, a: tuple[dict[str, Any], str], b: tuple[dict[str, Any], str]) -> None:
    """Make two users friends through the friend-request routes."""
    r = api.post("/friends/requests", {"user_id": b[0]["id"]}, token=a[1])
    assert r.status == 201, r.body
    accepted = api.post(f"/friends/requests/{r.body['id']}/accept", token=b[1])
    assert accepted.status == 200, accepted.body


def unfriend(api: Api, a: tuple[dict[str, Any], str], b: tuple[dict[str, Any], str]) -> None:
    r = api.delete(f"/friends/{b[0]['id']}", token=a[1])
    assert r.status == 204, r.body


def post(api: Api, token: str, body: str = "Who's coming?", **extra: Any) -> dict[str, Any]:
    r = api.post("/posts", {"body": body, **extra}, token=token)
    assert r.status == 201, r.body
    return r.body  # type: ignore[no-any-return]


@dataclass
class People:
    author: tuple[dict[str, Any], str]
    friend: tuple[dict[str, Any], str]  # the author's friend, and the author of the comment
    other_friend: tuple[dict[str, Any], str]  # another friend of the author
    stranger: tuple[dict[str, Any], str]
    moderator: str

    def token(self, who: str) -> str | None:
        if who == "anonymous":
            return None
        if who == "moderator":
            return self.moderator
        person: tuple[dict[str, Any], str] = getattr(self, who)
        return person[1]


@pytest.fixture
def people(api: Api) -> People:
    author, friend, other, stranger = (api.register() for _ in range(4))
    befriend(api, author, friend)
    befriend(api, author, other)
    return People(author, friend, other, stranger, admin_token(api))


ALL = ("author", "friend", "other_friend", "stranger", "moderator", "anonymous")


def rows(method: str, path: str, *statuses: int) -> list[tuple[str, str, str, int]]:
    return [(who, method, path, status) for who, status in zip(ALL, statuses, strict=True)]


# (who, method, path template, expected status): {post} is the author's post, {comment} the
# friend's comment on it (a fresh pair for each row that deletes one).
MATRIX = [
    *rows("GET", "/posts", 200, 200, 200, 200, 200, 401),
    *rows("POST", "/posts", 201, 201, 201, 201, 201, 401),
    *rows("GET", "/posts/{post}", 200, 200, 200, 404, 200, 401),
    *rows("PATCH", "/posts/{post}", 200, 403, 403, 404, 200, 401),
    *rows("PUT", "/posts/{post}", 200, 403, 403, 404, 200, 401),
    *rows("DELETE", "/posts/{post}", 204, 403, 403, 404, 204, 401),
    *rows("POST", "/posts/{post}/comments", 201, 201, 201, 404, 201, 401),
    *rows("GET", "/posts/{post}/comments", 200, 200, 200, 404, 200, 401),
    *rows("PUT", "/posts/{post}/like", 200, 200, 200, 404, 200, 401),
    *rows("DELETE", "/posts/{post}/like", 204, 204, 204, 404, 204, 401),
    *rows("GET", "/comments/{comment}", 200, 200, 200, 404, 200, 401),
    *rows("PATCH", "/comments/{comment}", 403, 200, 403, 404, 200, 401),
    *rows("PUT", "/comments/{comment}", 403, 200, 403, 404, 200, 401),
    *rows("DELETE", "/comments/{comment}", 403, 204, 403, 404, 204, 401),
]
BODIES = {"POST": {"body": "Count me in"}, "PATCH": {"body": "edited"}, "PUT": {"body": "replaced"}}


def test_who_may_do_what(api, people):
    failures = []

    def fresh() -> tuple[dict[str, Any], dict[str, Any]]:
        the_post = post(api, people.author[1])
        comment = api.post(f"/posts/{the_post['id']}/comments", {"body": "me!"}, token=people.friend[1]).body
        return the_post, comment

    shared = fresh()
    for who, method, template, expected in MATRIX:
        the_post, comment = fresh() if method == "DELETE" and expected == 204 else shared
        path = template.format(post=the_post["id"], comment=comment["id"])
        r = api.request(method, path, BODIES.get(method), token=people.token(who))
        if r.status != expected:
            failures.append((who, method, template, expected, r.status, r.body))
        elif r.status >= 400:
            assert set(r.body) >= {"code", "message"}, r.body
    assert not failures, failures


def test_a_post_about_an_event_a_share_and_bad_bodies(api, people):
    _, token = people.author
    event = api.create_event(token)
    about = post(api, token, "Anyone for jazz?", event_id=event["id"])
    assert about["event_id"] == event["id"] and about["like_count"] == 0 and about["comment_count"] == 0
    assert about["author_id"] == people.author[0]["id"] and about["liked_by_me"] is False
    share = api.post("/posts", {"event_id": event["id"]}, token=token)
    assert share.status == 201 and share.body["body"] == ""
    for bad in ({}, {"body": "   "}, {"body": "x" * 5001}, {"body": 3}, {"body": "ok", "author_id": "me"}):
        r = api.post("/posts", bad, token=token)
        assert r.status == 400 and r.body["code"] == "ValidationError", (bad, r.body)
    assert post(api, token, "x" * 5000)["body"] == "x" * 5000
    assert post(api, token, "  padded  ")["body"] == "padded"
    assert api.post("/posts", {"body": "hi", "event_id": "NOPE"}, token=token).status == 404


def test_re_sharing_shows_the_shared_post_only_to_who_may_see_it(api, people):
    author, friend = people.author, people.friend
    friend_of_friend = api.register()
    befriend(api, friend, friend_of_friend)
    original = post(api, author[1], "Original")
    assert api.post("/posts", {"shared_post_id": original["id"]}, token=people.stranger[1]).status == 404
    assert api.post("/posts", {"shared_post_id": "NOPE"}, token=friend[1]).status == 404
    reshare = api.post("/posts", {"shared_post_id": original["id"], "body": "Look"}, token=friend[1])
    assert reshare.status == 201, reshare.body
    assert reshare.body["shared_post"]["body"] == "Original"
    seen = api.get(f"/posts/{reshare.body['id']}", token=friend_of_friend[1]).body
    assert seen["shared_post_id"] == original["id"] and seen["shared_post"] is None  # not the author's friend
    assert api.get(f"/posts/{reshare.body['id']}", token=author[1]).body["shared_post"]["id"] == original["id"]
    assert api.delete(f"/posts/{original['id']}", token=author[1]).status == 204
    assert api.get(f"/posts/{reshare.body['id']}", token=friend[1]).body["shared_post"] is None


def test_one_like_per_user_and_idempotent_unlike(api, people):
    the_post = post(api, people.author[1])
    like = f"/posts/{the_post['id']}/like"
    first = api.put(like, token=people.friend[1])
    again = api.put(like, token=people.friend[1])
    assert first.status == again.status == 200
    assert again.body["like_count"] == 1 and again.body["liked_by_me"] is True
    assert api.put(like, token=people.other_friend[1]).body["like_count"] == 2
    assert api.get(f"/posts/{the_post['id']}", token=people.author[1]).body["liked_by_me"] is False
    assert api.delete(like, token=people.friend[1]).status == 204
    assert api.delete(like, token=people.friend[1]).status == 204
    assert api.delete(like, token=people.author[1]).status == 204  # never liked: nothing changes
    after = api.get(f"/posts/{the_post['id']}", token=people.friend[1]).body
    assert after["like_count"] == 1 and after["liked_by_me"] is False
    assert api.put("/posts/NOPE/like", token=people.friend[1]).status == 404


def test_comments_count_page_oldest_first_and_edit(api, people):
    the_post = post(api, people.author[1])
    path = f"/posts/{the_post['id']}/comments"
    made = [api.post(path, {"body": f"c{i}"}, token=people.friend[1]).body for i in range(5)]
    assert api.get(f"/posts/{the_post['id']}", token=people.author[1]).body["comment_count"] == 5
    seen, cursor = [], None
    while True:
        r = api.get(path + "?limit=2" + (f"&cursor={cursor}" if cursor else ""), token=people.other_friend[1])
        assert r.status == 200, r.body
        seen += [c["body"] for c in r.body["items"]]
        cursor = r.body["next_cursor"]
        if not cursor:
            break
    assert seen == ["c0", "c1", "c2", "c3", "c4"]
    comment = made[0]
    for bad in ({"body": ""}, {"body": "x" * 2001}, {"body": "ok", "post_id": "x"}):
        assert api.patch(f"/comments/{comment['id']}", bad, token=people.friend[1]).status == 400
    assert api.put(f"/comments/{comment['id']}", {}, token=people.friend[1]).status == 400
    edited = api.patch(f"/comments/{comment['id']}", {"body": "better", "version": 1}, token=people.friend[1])
    assert edited.status == 200 and edited.body["body"] == "better" and edited.body["version"] == 2
    stale = api.put(f"/comments/{comment['id']}", {"body": "late", "version": 1}, token=people.friend[1])
    assert stale.status == 409 and stale.body["code"] == "StaleVersion"
    assert api.delete(f"/comments/{comment['id']}", token=people.friend[1]).status == 204
    assert api.get(f"/comments/{comment['id']}", token=people.friend[1]).status == 404
    assert api.delete(f"/comments/{comment['id']}", token=people.friend[1]).status == 404
    assert api.get(f"/posts/{the_post['id']}", token=people.author[1]).body["comment_count"] == 4
    assert api.post(path, {"body": "  "}, token=people.friend[1]).status == 400


def test_editing_a_post(api, people):
    _, token = people.author
    event = api.create_event(token)
    the_post = post(api, token, "Draft", event_id=event["id"])
    path = f"/posts/{the_post['id']}"
    patched = api.patch(path, {"body": "Final"}, token=token)
    assert patched.status == 200 and patched.body["body"] == "Final" and patched.body["event_id"] == event["id"]
    assert patched.body["version"] == 2
    stale = api.patch(path, {"body": "Older", "version": 1}, token=token)
    assert stale.status == 409 and stale.body["code"] == "StaleVersion"
    put = api.put(path, {"body": "Only words", "version": 2}, token=token)
    assert put.status == 200 and put.body["event_id"] is None and put.body["version"] == 3  # PUT replaces
    empty = api.patch(path, {"body": None}, token=token)
    assert empty.status == 400 and empty.body["code"] == "EmptyPost"
    assert api.patch(path, {"event_id": "NOPE"}, token=token).status == 404
    assert api.patch(path, {"shared_post_id": "x"}, token=token).status == 400
    assert api.patch(path, {}, token=token).body["version"] == 3
    assert api.patch("/posts/NOPE", {"body": "x"}, token=token).status == 404


def test_a_deleted_post_and_everything_on_it_is_gone(api, people):
    the_post = post(api, people.author[1])
    comment = api.post(f"/posts/{the_post['id']}/comments", {"body": "hi"}, token=people.friend[1]).body
    assert api.delete(f"/posts/{the_post['id']}", token=people.author[1]).status == 204
    for method, path in [
        ("GET", f"/posts/{the_post['id']}"),
        ("DELETE", f"/posts/{the_post['id']}"),
        ("PUT", f"/posts/{the_post['id']}/like"),
        ("GET", f"/posts/{the_post['id']}/comments"),
        ("POST", f"/posts/{the_post['id']}/comments"),
        ("GET", f"/comments/{comment['id']}"),
    ]:
        assert api.request(method, path, BODIES.get(method), token=people.author[1]).status == 404, (method, path)


def test_own_posts_are_in_the_feed_at_once(api, people):
    first = post(api, people.author[1], "one")
    second = post(api, people.author[1], "two")
    r = api.get("/posts", token=people.author[1])
    assert [p["id"] for p in r.body["items"]] == [second["id"], first["id"]]
    assert api.get("/posts?limit=0", token=people.author[1]).status == 400
    assert api.get("/posts?cursor=forged", token=people.author[1]).status == 400
