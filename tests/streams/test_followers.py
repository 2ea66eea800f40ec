"""Bookmarks follow events: a change or cancellation reaches every ticket holder and every
follower once, in bounded fan-out steps, however often the activity batch is redelivered."""

from __future__ import annotations

from tests.support import in_days


def kinds(api, token):
    r = api.get("/notifications?limit=100", token=token)
    assert r.status == 200, r.body
    return [n["kind"] for n in r.body["items"]]


def fanout_steps(records):
    return [r for r in records if r["dynamodb"].get("NewImage", {}).get("type", {}).get("S") == "fanout_step"]


def redeliver_until_quiet(stream, rounds=60):
    """Every batch delivered twice, as Lambda may: returns every record seen."""
    seen = []
    for _ in range(rounds):
        records = stream.read()
        if not records:
            return seen
        stream.both(records)
        stream.both(records)
        seen += records
    raise AssertionError("the stream did not settle")


def test_bookmarks_are_idempotent_and_listed_newest_first(api):
    _, org = api.register()
    _, fan = api.register()
    first, second = api.create_event(org, title="First"), api.create_event(org, title="Second")
    r1 = api.put(f"/events/{first['id']}/bookmark", token=fan)
    assert r1.status == 200 and r1.body["event_id"] == first["id"]
    assert api.put(f"/events/{first['id']}/bookmark", token=fan).body == r1.body  # once, whatever the repeats
    assert api.put(f"/events/{second['id']}/bookmark", token=fan).status == 200
    page = api.get("/me/bookmarks", token=fan).body
    assert [e["title"] for e in page["items"]] == ["Second", "First"] and page["next_cursor"] is None
    assert page["items"][1]["bookmarked_at"] == r1.body["created_at"] and "sections" not in page["items"][0]
    one = api.get("/me/bookmarks?limit=1", token=fan).body
    rest = api.get(f"/me/bookmarks?limit=1&cursor={one['next_cursor']}", token=fan).body
    assert [e["id"] for e in one["items"] + rest["items"]] == [second["id"], first["id"]]
    assert api.delete(f"/events/{second['id']}/bookmark", token=fan).status == 204
    assert api.delete(f"/events/{second['id']}/bookmark", token=fan).status == 204  # idempotent
    assert [e["id"] for e in api.get("/me/bookmarks", token=fan).body["items"]] == [first["id"]]
    assert api.get("/me/bookmarks", token=org).body["items"] == []  # someone else's are not yours


def test_bookmark_refusals(api):
    _, fan = api.register()
    assert api.put("/events/NOSUCHEVENT/bookmark", token=fan).status == 404
    assert api.put("/events/NOSUCHEVENT/bookmark").status == 401
    assert api.get("/me/bookmarks").status == 401
    assert api.get("/me/bookmarks?limit=0", token=fan).status == 400
    assert api.get("/me/bookmarks?cursor=forged", token=fan).status == 400


def test_a_change_reaches_holders_and_followers_once_each_in_bounded_steps(api, stream, small_pages):
    _, org = api.register()
    holders = [api.register()[1] for _ in range(3)]
    followers = [api.register()[1] for _ in range(4)]
    _, both = api.register()  # holds a ticket and bookmarked the event: told once
    _, gone = api.register()  # bookmarked, then removed the bookmark
    _, bystander = api.register()
    event = api.create_event(org)
    eid = event["id"]
    for token in [*holders, both]:
        assert api.buy(token, eid).status == 201
    for token in [*followers, both, gone]:
        assert api.put(f"/events/{eid}/bookmark", token=token).status == 200
    assert api.delete(f"/events/{eid}/bookmark", token=gone).status == 204
    stream.flush()

    assert api.patch(f"/events/{eid}", {"starts_at": in_days(45)}, token=org).status == 200
    records = redeliver_until_quiet(stream)

    for token in [*holders, both]:
        assert kinds(token=token, api=api) == ["event_changed", "order_confirmed"]
    for token in followers:
        assert kinds(api, token) == ["event_changed"]
    for token in (gone, bystander):
        assert kinds(api, token) == []
    # 4 holders and 5 followers, two per step: 2 holder steps, 3 follower steps (at least; never one).
    assert len(fanout_steps(records)) >= 5
    notice = api.get("/notifications", token=followers[0]).body["items"][0]
    assert notice["data"] == {"event_id": eid, "changed": ["starts_at"]}


def test_cancellation_reaches_followers_and_refunded_holders_once(api, stream, small_pages):
    _, org = api.register()
    _, holder = api.register()
    followers = [api.register()[1] for _ in range(3)]
    event = api.create_event(org)
    eid = event["id"]
    assert api.buy(holder, eid).status == 201
    for token in followers:
        api.put(f"/events/{eid}/bookmark", token=token)
    stream.flush()
    assert api.delete(f"/events/{eid}", token=org).status == 204
    redeliver_until_quiet(stream)
    assert sorted(kinds(api, holder)) == ["event_cancelled", "order_cancelled", "order_confirmed"]
    for token in followers:
        assert kinds(api, token) == ["event_cancelled"]
