"""Partial-text search of users and events through the n-gram index the activity consumer keeps.

Each test writes through the API, delivers the table's stream to the consumers (``stream.flush()``,
as Lambda would), then searches through the API.
"""

from __future__ import annotations

from typing import Any
from urllib.parse import quote

import boto3
import pytest

from chalicelib.settings import get_settings
from tests.streams import conftest as streams
from tests.support import PASSWORD, Api, in_days

Stream = streams.Stream


def names(r: Any, field: str = "username") -> list[str]:
    assert r.status == 200, r.body
    return sorted(item[field] for item in r.body["items"])


def postings() -> list[Any]:
    """Every posting in the table (the test may Scan; no request does)."""
    items = boto3.client("dynamodb").scan(TableName=get_settings().table_name)["Items"]
    return sorted((i for i in items if i["type"]["S"] == "search_posting"), key=lambda i: (i["PK"]["S"], i["SK"]["S"]))


def register(api: Api, username: str, name: str) -> tuple[dict[str, Any], str]:
    user, token = api.register(username)
    r = api.patch(f"/users/{user['id']}", {"name": name}, token=token)
    assert r.status == 200, r.body
    return r.body, token


def all_pages(api: Api, path: str, token: str | None = None, field: str = "id") -> list[str]:
    seen: list[str] = []
    cursor = None
    for _ in range(100):
        r = api.get(path + (f"&cursor={cursor}" if cursor else ""), token=token)
        assert r.status == 200, r.body
        seen += [item[field] for item in r.body["items"]]
        cursor = r.body["next_cursor"]
        if not cursor:
            return seen
    raise AssertionError("no end of pages")


def test_my_finds_tommy_amy_and_sammy_on_every_route(api: Api, stream: Stream) -> None:
    for name in ("tommy", "amy", "Sammy", "bob"):
        api.register(name)
    _, token = api.register("zed")
    stream.flush()
    assert names(api.get("/users?q=MY", token=token)) == ["Sammy", "amy", "tommy"]
    assert names(api.get("/search?q=my&type=users", token=token)) == ["Sammy", "amy", "tommy"]
    r = api.get("/search?q=mY&type=users", token=token)
    assert {item["type"] for item in r.body["items"]} == {"user"}
    assert names(api.get("/users?q=tommy", token=token)) == ["tommy"]
    assert names(api.get("/users?q=xyz", token=token)) == []


def test_renames_and_deletions_show_after_the_stream_runs(api: Api, stream: Stream) -> None:
    user, token = register(api, "quinn", "Harriet Vane")
    stream.flush()
    assert names(api.get("/users?q=vane", token=token)) == ["quinn"]
    body = {"name": "Harriet Wimsey", "username": "hwimsey", "current_password": PASSWORD}
    assert api.patch(f"/users/{user['id']}", body, token=token).status == 200
    stream.flush()
    assert names(api.get("/users?q=vane", token=token)) == []
    assert names(api.get("/users?q=quinn", token=token)) == []
    assert names(api.get("/users?q=wimsey", token=token)) == ["hwimsey"]
    _, other = api.register()
    assert api.delete(f"/users/{user['id']}", token=token).status == 204
    stream.flush()
    assert names(api.get("/users?q=wimsey", token=other)) == []


def test_a_deleted_user_drops_out_even_before_the_stream_runs(api: Api, stream: Stream) -> None:
    user, token = register(api, "gone", "Vanishing Act")
    _, other = api.register()
    stream.flush()
    api.delete(f"/users/{user['id']}", token=token)
    assert names(api.get("/users?q=vanish", token=other)) == []  # the posting is still there: hydration drops it


def test_accents_and_non_latin_names(api: Api, stream: Stream) -> None:
    _, token = register(api, "jose", "José Ñúñez")
    register(api, "ivan", "Иван Петров")
    register(api, "sokrates", "Σωκράτης")
    register(api, "tokyo", "東京ジャズ")
    register(api, "minsu", "김민수")
    register(api, "strasse", "Große Straße")
    stream.flush()
    for q in ("jose", "josé", "JOSÉ", "nunez", "ÑÚÑ"):
        assert names(api.get(f"/users?q={quote(q)}", token=token)) == ["jose"], q
    for q, who in [("пет", "ivan"), ("ИВ", "ivan"), ("ΣΩΚΡΑΤ", "sokrates"), ("東京", "tokyo"), ("ジャズ", "tokyo")]:
        assert names(api.get(f"/users?q={quote(q)}", token=token)) == [who], q
    assert names(api.get(f"/users?q={quote('민수')}", token=token)) == ["minsu"]
    assert names(api.get(f"/users?q={quote('straße')}", token=token)) == ["strasse"]
    assert names(api.get("/users?q=strasse", token=token)) == ["strasse"]


def test_the_email_is_not_searchable(api: Api, stream: Stream) -> None:
    user, token = register(api, "plain", "Plain Person")
    r = api.patch(
        f"/users/{user['id']}", {"email": "secret.xq@hiddenmail.example.com", "current_password": PASSWORD}, token=token
    )
    assert r.status == 200, r.body
    stream.flush()
    for q in ("secret", "hiddenmail", "xq@", "example.com"):
        assert names(api.get(f"/users?q={q}", token=token)) == [], q
        assert names(api.get(f"/search?q={q}", token=token), "id") == [], q


@pytest.mark.parametrize("q", ["", "a", " a ", "  ", "é", "\u0301a", "\u00a0b\u00a0"])
def test_queries_under_two_characters_are_400(api: Api, q: str) -> None:
    _, token = api.register()
    q = quote(q)
    for path in (f"/users?q={q}", f"/events?q={q}", f"/search?q={q}", f"/search?q={q}&type=users"):
        r = api.get(path, token=token)
        assert r.status == 400, (path, r.body)
        assert r.body["details"][0]["field"] == "q"


def test_search_needs_q_and_a_known_type(api: Api) -> None:
    _, token = api.register()
    assert api.get("/search", token=token).status == 400
    r = api.get("/search?q=jazz&type=places", token=token)
    assert r.status == 400 and r.body["details"][0]["field"] == "type"
    assert api.get("/search?q=jazz&cursor=junk").status == 400


def test_anonymous_callers_search_events_only(api: Api, stream: Stream) -> None:
    user, token = register(api, "jazzfan", "Jazz Fan")
    event = api.create_event(token, title="Midnight Jazz")
    stream.flush()
    r = api.get("/search?q=jazz&type=users")
    assert r.status == 401 and r.body["code"] == "MissingToken"
    assert api.get("/search?q=jazz&type=users", token="garbage").status == 401
    r = api.get("/search?q=jazz")  # no type, anonymous: events
    assert r.status == 200 and [(i["type"], i["id"]) for i in r.body["items"]] == [("event", event["id"])]
    r = api.get("/search?q=jazz", token=token)  # no type, signed in: events, then users
    assert [(i["type"], i["id"]) for i in r.body["items"]] == [("event", event["id"]), ("user", user["id"])]
    assert r.body["items"][1]["email"] == user["email"]  # the caller's own user: as GET /users shows it
    r = api.get("/search?q=jazz&type=events")
    assert [i["id"] for i in r.body["items"]] == [event["id"]]


def test_pages_follow_the_cursor_without_duplicates_or_misses(api: Api, stream: Stream) -> None:
    _, token = api.register("pager")
    wanted = {api.register(f"pagemy{n:02d}")[0]["id"] for n in range(7)}
    api.register("pageother")
    stream.flush()
    for path in ("/users?q=gemy&limit=2", "/search?q=gemy&type=users&limit=3"):
        seen = all_pages(api, path, token)
        assert len(seen) == len(set(seen)) == 7 and set(seen) == wanted, path
    both = all_pages(api, "/search?q=page&limit=3", token)  # events (none), then users
    assert len(both) == len(set(both)) == 9


def test_a_cursor_belongs_to_its_query(api: Api, stream: Stream) -> None:
    _, token = api.register("curs1")
    api.register("curs2")
    stream.flush()
    cursor = api.get("/users?q=curs&limit=1", token=token).body["next_cursor"]
    assert cursor
    assert api.get(f"/users?q=cur&limit=1&cursor={cursor}", token=token).status == 400
    assert api.get(f"/users?limit=1&cursor={cursor}", token=token).status == 400
    assert api.get(f"/search?q=curs&type=users&cursor={cursor}", token=token).status == 400


def test_events_by_title_with_dates_and_category(api: Api, stream: Stream) -> None:
    _, token = api.register()
    days = {"Jazz Brunch": 3, "Late Jazz": 40, "Jazz Ensemble": 70, "Comedy Jam": 10}
    ids = {}
    for title, d in days.items():
        category = "comedy" if title == "Jazz Brunch" else "music"
        ids[title] = api.create_event(token, title=title, starts_at=in_days(d), category=category)["id"]
    stream.flush()
    titles = names(api.get("/events?q=JAZZ"), "title")
    assert titles == ["Jazz Brunch", "Jazz Ensemble", "Late Jazz"]
    assert [e["title"] for e in api.get("/events?q=jazz").body["items"]] == [
        "Jazz Brunch",
        "Late Jazz",
        "Jazz Ensemble",
    ]
    assert [e["title"] for e in api.get("/events?q=jazz&category=music").body["items"]] == [
        "Late Jazz",
        "Jazz Ensemble",
    ]
    window = api.get(f"/events?q=jazz&from={in_days(5)[:10]}&to={in_days(45)[:10]}").body["items"]
    assert [e["title"] for e in window] == ["Late Jazz"]
    assert [e["title"] for e in api.get("/events?q=e jaz").body["items"]] == ["Late Jazz"]
    assert all_pages(api, "/events?q=jazz&limit=1") == [ids["Jazz Brunch"], ids["Late Jazz"], ids["Jazz Ensemble"]]
    assert api.get("/events?q=jazz&from=2030-01-01&to=2029-01-01").status == 400


def test_event_edits_move_the_postings(api: Api, stream: Stream) -> None:
    _, token = api.register()
    event = api.create_event(token, title="Opera Night", starts_at=in_days(20), category="music")
    stream.flush()
    r = api.patch(
        f"/events/{event['id']}", {"title": "Ballet Night", "starts_at": in_days(90), "category": "dance"}, token=token
    )
    assert r.status == 200, r.body
    stream.flush()
    assert api.get("/events?q=opera").body["items"] == []
    assert [e["id"] for e in api.get("/events?q=ballet&category=dance").body["items"]] == [event["id"]]
    assert api.get("/events?q=ballet&category=music").body["items"] == []
    assert api.get(f"/events?q=ballet&to={in_days(60)[:10]}").body["items"] == []


def test_redelivering_the_same_records_changes_nothing(api: Api, stream: Stream) -> None:
    user, token = register(api, "twice", "Twice Told")
    api.patch(f"/users/{user['id']}", {"name": "Thrice Told"}, token=token)
    api.create_event(token, title="Twice Nightly")
    records = stream.flush()
    before, index = api.get("/search?q=ice&limit=100", token=token).body, postings()
    stream.both(records)  # every record again, in order, as a Lambda retry would
    stream.flush()
    after = api.get("/search?q=ice&limit=100", token=token).body
    assert after == before and postings() == index
    assert [i["type"] for i in after["items"]] == ["event", "user"]
    assert names(api.get("/users?q=twice%20told", token=token)) == []
    assert names(api.get("/users?q=thrice", token=token)) == ["twice"]


def test_the_operator_reindex_builds_and_repairs_the_index(api: Api, stream: Stream) -> None:
    from click.testing import CliRunner

    from chalicelib.cli import cli

    user, token = register(api, "legacy", "Old Timer")
    api.create_event(token, title="Vintage Fair")
    stream.read()  # written "before the index existed": the consumers never see these records
    assert names(api.get("/users?q=timer", token=token)) == []
    result = CliRunner().invoke(cli, ["search-reindex"])
    assert result.exit_code == 0, result.output
    assert "indexed 1 users and 1 events" in result.output
    assert names(api.get("/users?q=timer", token=token)) == ["legacy"]
    assert names(api.get("/events?q=vintage"), "title") == ["Vintage Fair"]
    assert names(api.get("/search?q=old%20tim", token=token), "id") == [user["id"]]
    api.patch(f"/users/{user['id']}", {"name": "New Comer"}, token=token)
    stream.read()  # the rename is missed too: its old postings are stale
    result = CliRunner().invoke(cli, ["search-reindex"])
    assert result.exit_code == 0 and " 0 deleted" not in result.output, result.output
    assert names(api.get("/users?q=comer", token=token)) == ["legacy"]
    assert not any("old timer" in str(p) for p in postings())
    again = CliRunner().invoke(cli, ["search-reindex"])  # nothing left to do
    assert "0 postings written, 0 deleted, 0 gram counters set" in again.output, again.output
