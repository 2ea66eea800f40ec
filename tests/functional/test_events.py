"""Events with sections: create, read, list, edit, cancel."""

from __future__ import annotations

import pytest

from tests.support import PASSWORD, event_body, in_days, section


@pytest.fixture
def org(api):
    return api.register("organizer")


def test_create_event_with_ga_and_reserved_sections(api, org):
    r = api.post("/events", event_body(), token=org[1])
    assert r.status == 201, r.body
    e = r.body
    assert e["organizer_id"] == org[0]["id"] and e["status"] == "on_sale"
    assert e["starts_at"].endswith("Z")
    ga, a = section(e, "GA"), section(e, "A")
    assert (ga["capacity"], ga["sold"], ga["held"], ga["remaining"], ga["kind"]) == (100, 0, 0, 100, "ga")
    assert (a["capacity"], a["rows"], a["seats_per_row"], a["remaining"], a["kind"]) == (50, 5, 10, 50, "reserved")
    assert api.get(f"/events/{e['id']}").body == e


@pytest.mark.parametrize(
    "overrides",
    [
        {"sections": []},
        {"sections": [{"code": "GA", "name": "x", "price_cents": 1, "capacity": 5, "rows": 2, "seats_per_row": 2}]},
        {"sections": [{"code": "GA", "name": "x", "price_cents": 1}]},
        {"sections": [{"code": "A", "name": "x", "price_cents": 1, "rows": 2}]},
        {
            "sections": [
                {"code": "GA", "name": "x", "price_cents": 1, "capacity": 5},
                {"code": "GA", "name": "y", "price_cents": 1, "capacity": 5},
            ]
        },
        {
            "sections": [
                {"code": "GA", "name": "x", "price_cents": 1, "capacity": 5, "currency": "AUD"},
                {"code": "B", "name": "y", "price_cents": 1, "capacity": 5, "currency": "USD"},
            ]
        },
        {"sections": [{"code": "GA", "name": "x", "price_cents": -1, "capacity": 5}]},
        {"sections": [{"code": "ga", "name": "x", "price_cents": 1, "capacity": 5}]},
        {"sections": [{"code": "GA", "name": "x", "price_cents": 1, "capacity": 0}]},
        {"starts_at": in_days(-1)},
        {"starts_at": "2030-01-01T10:00:00"},  # no time zone
        {"starts_at": "tomorrow"},
        {"ends_at": in_days(1)},  # before starts_at
        {"title": "x" * 201},
        {"title": ""},
        {"max_tickets_per_order": 0},
        {"max_tickets_per_order": 51},
        {"venue": {"name": "x", "address": "y", "lat": 91, "lon": 0}},
        {"organizer_id": "someone"},
        {"category": "Music!"},
    ],
)
def test_bad_events_are_400_and_not_created(api, org, overrides):
    r = api.post("/events", event_body(**overrides), token=org[1])
    assert r.status == 400, r.body
    assert r.body["code"] in ("ValidationError",) and r.body["details"], r.body
    assert api.get("/events").body["items"] == []


def test_creating_needs_a_token(api):
    assert api.post("/events", event_body()).status == 401


def test_unknown_event_is_404(api):
    r = api.get("/events/nope")
    assert r.status == 404 and r.body["code"] == "NotFound"


def test_list_soonest_first_with_filters_and_pages(api, org, stream):
    days = [200, 3, 40, 70, 10]
    for n, d in enumerate(days):
        api.create_event(org[1], title=f"Show {d}", starts_at=in_days(d), category="music" if n % 2 else "comedy")
    r = api.get("/events")
    assert r.status == 200
    titles = [e["title"] for e in r.body["items"]]
    assert titles == [f"Show {d}" for d in sorted(days)]
    assert all("sections" not in e for e in r.body["items"])
    comedy = [e["title"] for e in api.get("/events?category=comedy").body["items"]]
    assert comedy == ["Show 10", "Show 40", "Show 200"]
    window = api.get(f"/events?from={in_days(5)[:10]}&to={in_days(45)[:10]}").body["items"]
    assert [e["title"] for e in window] == ["Show 10", "Show 40"]
    stream.flush()  # the search index is kept by the activity consumer
    assert [e["title"] for e in api.get("/events?q=OW 7").body["items"]] == ["Show 70"]
    seen, cursor = [], None
    while True:
        page = api.get("/events?limit=2" + (f"&cursor={cursor}" if cursor else "")).body
        assert len(page["items"]) <= 2
        seen += [e["title"] for e in page["items"]]
        cursor = page["next_cursor"]
        if not cursor:
            break
    assert seen == titles


def test_list_rejects_bad_dates(api):
    for q in ("from=yesterday", "to=2020-13-01", "from=2030-01-01&to=2029-01-01", "from=2030-01-01&to=2040-01-01"):
        assert api.get(f"/events?{q}").status == 400, q


def test_only_the_organizer_or_an_editor_may_edit(api, org):
    e = api.create_event(org[1])
    _, stranger = api.register()
    assert api.patch(f"/events/{e['id']}", {"title": "Mine now"}, token=stranger).status == 403
    r = api.patch(f"/events/{e['id']}", {"title": "Late Jazz", "description": "Later"}, token=org[1])
    assert r.status == 200 and r.body["title"] == "Late Jazz" and r.body["description"] == "Later"
    assert r.body["venue"] == e["venue"]
    from click.testing import CliRunner

    from chalicelib.cli import cli

    CliRunner().invoke(
        cli,
        ["create-admin", "--email", "r@example.com", "--username", "root", "--name", "R"],
        env={"BOXOFFICE_ADMIN_PASSWORD": PASSWORD},
    )
    admin = api.post("/auth/login", {"username": "root", "password": PASSWORD}).body["access_token"]
    assert api.patch(f"/events/{e['id']}", {"title": "Admin edit"}, token=admin).status == 200


def test_capacity_cannot_go_below_sold_plus_held(api, org):
    e = api.create_event(org[1])
    _, buyer = api.register()
    assert api.buy(buyer, e["id"], 8).status == 201
    r = api.patch(f"/events/{e['id']}", {"sections": [{"code": "GA", "capacity": 7}]}, token=org[1])
    assert r.status == 409 and r.body["code"] == "CapacityBelowSold" and r.body["sold"] == 8
    ga = section(api.get(f"/events/{e['id']}").body, "GA")
    assert (ga["capacity"], ga["remaining"]) == (100, 92)
    r = api.patch(
        f"/events/{e['id']}", {"sections": [{"code": "GA", "capacity": 8, "price_cents": 6000}]}, token=org[1]
    )
    assert r.status == 200, r.body
    ga = section(r.body, "GA")
    assert (ga["capacity"], ga["sold"], ga["remaining"], ga["price_cents"]) == (8, 8, 0, 6000)
    assert api.buy(buyer, e["id"], 1).status == 409
    r = api.patch(f"/events/{e['id']}", {"sections": [{"code": "GA", "capacity": 20}]}, token=org[1])
    assert section(r.body, "GA")["remaining"] == 12


def test_patch_adds_sections_and_checks_layout_changes(api, org):
    e = api.create_event(org[1])
    new = {"code": "VIP", "name": "VIP", "price_cents": 20000, "capacity": 10}
    r = api.patch(f"/events/{e['id']}", {"sections": [new]}, token=org[1])
    assert r.status == 200 and section(r.body, "VIP")["remaining"] == 10
    bad = api.patch(f"/events/{e['id']}", {"sections": [{"code": "NEW", "name": "incomplete"}]}, token=org[1])
    assert bad.status == 400
    r = api.patch(f"/events/{e['id']}", {"sections": [{"code": "A", "rows": 6}]}, token=org[1])
    assert r.status == 200 and section(r.body, "A")["capacity"] == 60
    assert api.patch(f"/events/{e['id']}", {"sections": [{"code": "A", "capacity": 6}]}, token=org[1]).status == 400
    assert api.patch(f"/events/{e['id']}", {"sections": [{"code": "GA", "rows": 6}]}, token=org[1]).status == 400


def test_put_replaces_and_cannot_drop_a_section_with_sales(api, org):
    e = api.create_event(org[1])
    _, buyer = api.register()
    api.buy(buyer, e["id"], 1)
    only_a = event_body(title="Renamed", sections=[event_body()["sections"][1]])
    r = api.put(f"/events/{e['id']}", only_a, token=org[1])
    assert r.status == 409, r.body
    assert api.get(f"/events/{e['id']}").body["title"] == e["title"]  # nothing changed
    only_ga = event_body(title="Renamed", sections=[event_body()["sections"][0]])
    r = api.put(f"/events/{e['id']}", only_ga, token=org[1])
    assert r.status == 200 and [s["code"] for s in r.body["sections"]] == ["GA"] and r.body["title"] == "Renamed"
    assert api.put(f"/events/{e['id']}", {"title": "partial"}, token=org[1]).status == 400


def test_rescheduling_moves_the_event_in_the_listing(api, org):
    e = api.create_event(org[1], starts_at=in_days(5))
    api.create_event(org[1], title="Other", starts_at=in_days(100))
    r = api.patch(f"/events/{e['id']}", {"starts_at": in_days(300)}, token=org[1])
    assert r.status == 200
    assert [x["title"] for x in api.get("/events").body["items"]] == ["Other", "Midnight Jazz"]
    assert api.patch(f"/events/{e['id']}", {"starts_at": in_days(-2)}, token=org[1]).status == 400


def test_cancelled_event_cannot_be_edited(api, org):
    e = api.create_event(org[1])
    assert api.delete(f"/events/{e['id']}", token=org[1]).status == 204
    r = api.patch(f"/events/{e['id']}", {"title": "x"}, token=org[1])
    assert r.status == 409 and r.body["code"] == "EventCancelled"


def test_patch_null_clears_optional_fields_only(api, org):
    e = api.create_event(org[1], ends_at=in_days(31), image_url="https://img.example.com/a.png")
    r = api.patch(f"/events/{e['id']}", {"ends_at": None, "image_url": None}, token=org[1])
    assert r.status == 200 and r.body["ends_at"] is None and r.body["image_url"] is None
    r = api.patch(f"/events/{e['id']}", {"title": None}, token=org[1])
    assert r.status == 400 and r.body["details"][0]["field"] == "title"
    assert api.get(f"/events/{e['id']}").body["title"] == e["title"]


def test_absurd_ids_and_limits_are_4xx(api, org):
    assert api.get("/events/" + "x" * 3000).status == 404
    assert api.get("/events?limit=²").status == 400


def test_edge_inputs_found_in_review_are_4xx(api, org):
    e = api.create_event(org[1])
    # a section patch that changes nothing writes nothing
    r = api.patch(f"/events/{e['id']}", {"sections": [{"code": "GA"}]}, token=org[1])
    assert r.status == 200 and section(r.body, "GA") == section(e, "GA")
    assert api.get("/events?cursor=abc.%C3%A9").status == 400
    for q in ("from=9999-12-31", "from=0001-01-01T00:00:00%2B01:00", "from=9999-12-01&to=9999-12-31"):
        assert api.get(f"/events?{q}").status == 400, q
    r = api.post("/events", event_body(starts_at="9999-12-31T23:59:59-01:00"), token=org[1])
    assert r.status == 400 and r.body["details"][0]["field"] == "starts_at"


def test_an_event_keeps_at_most_twenty_sections(api, org):
    e = api.create_event(org[1])

    def new(n):
        return {"code": f"S{n}", "name": f"S{n}", "price_cents": 100, "capacity": 5}

    assert api.patch(f"/events/{e['id']}", {"sections": [new(n) for n in range(18)]}, token=org[1]).status == 200
    r = api.patch(f"/events/{e['id']}", {"sections": [new(18)]}, token=org[1])
    assert r.status == 400 and "20 sections" in r.body["message"]
    assert len(api.get(f"/events/{e['id']}").body["sections"]) == 20
    only_ga = event_body(sections=[event_body()["sections"][0]])
    r = api.put(f"/events/{e['id']}", only_ga, token=org[1])
    assert r.status == 200 and [s["code"] for s in r.body["sections"]] == ["GA"]
