"""Places and recommendations (issue 8), through the HTTP front door; and the demo data command."""

from __future__ import annotations

import math
from typing import Any

import pytest
from click.testing import CliRunner

from chalicelib.cli import cli
from tests.support import PASSWORD, Api

R = 6_371_008.8  # the mean Earth radius, as the app uses
# Near the east edge of geohash cell r3gx2 (151.171875-151.2158203125): 200 m east is another cell.
VENUE = {"name": "Edge Hall", "address": "1 Edge St, Sydney", "lat": -33.87, "lon": 151.2150}


def destination(lat: float, lon: float, bearing_deg: float, metres: float) -> tuple[float, float]:
    """The point ``metres`` from (lat, lon) along a great circle at a bearing (spherical Earth)."""
    f1, l1, b, d = math.radians(lat), math.radians(lon), math.radians(bearing_deg), metres / R
    f2 = math.asin(math.sin(f1) * math.cos(d) + math.cos(f1) * math.sin(d) * math.cos(b))
    l2 = l1 + math.atan2(math.sin(b) * math.sin(d) * math.cos(f1), math.cos(d) - math.sin(f1) * math.sin(f2))
    return math.degrees(f2), (math.degrees(l2) + 540) % 360 - 180


def haversine(lat1: float, lon1: float, lat2: float, lon2: float) -> float:
    dlat, dlon = math.radians(lat2 - lat1), math.radians(lon2 - lon1)
    a = math.sin(dlat / 2) ** 2 + math.cos(math.radians(lat1)) * math.cos(math.radians(lat2)) * math.sin(dlon / 2) ** 2
    return 2 * R * math.asin(math.sqrt(a))


def place(name: str, kind: str, at: tuple[float, float], rating: float = 4.0, **extra: Any) -> dict[str, Any]:
    return {"name": name, "kind": kind, "lat": at[0], "lon": at[1], "rating": rating, **extra}


@pytest.fixture
def organizer(api: Api) -> tuple[str, dict[str, Any]]:
    """A user who organizes one event, at VENUE."""
    _, token = api.register()
    event = api.create_event(token, venue=VENUE)
    return token, event


def admin_token(api: Api) -> str:
    result = CliRunner().invoke(
        cli,
        ["create-admin", "--email", "root@example.com", "--username", "root", "--name", "Root"],
        env={"BOXOFFICE_ADMIN_PASSWORD": PASSWORD},
    )
    assert result.exit_code == 0, result.output
    return str(api.post("/auth/login", {"username": "root", "password": PASSWORD}).body["access_token"])


def names(r: Any) -> list[str]:
    return [p["name"] for p in r.body["items"]]


# --- who may add places ----------------------------------------------------------------------------
def test_only_organizers_and_admins_add_places(api, organizer):
    body = place("Cafe", "restaurant", (-33.87, 151.21), url="https://cafe.example.com")
    assert api.post("/places", body).status == 401
    _, plain = api.register()
    r = api.post("/places", body, token=plain)
    assert r.status == 403 and r.body["code"] == "Forbidden"
    r = api.post("/places", body, token=organizer[0])
    assert r.status == 201, r.body
    assert {k: r.body[k] for k in body} == body and r.body["id"]
    assert api.post("/places", {**body, "name": "Admin's"}, token=admin_token(api)).status == 201


@pytest.mark.parametrize(
    ("change", "field"),
    [
        ({"kind": "bar"}, "kind"),
        ({"lat": 90.5}, "lat"),
        ({"lat": -91}, "lat"),
        ({"lon": 180.01}, "lon"),
        ({"rating": 5.5}, "rating"),
        ({"rating": -1}, "rating"),
        ({"rating": 4.25}, "rating"),
        ({"rating": "4"}, "rating"),
        ({"name": ""}, "name"),
        ({"name": "x" * 201}, "name"),
        ({"url": "ftp://example.com"}, "url"),
        ({"url": "https://" + "x" * 2000}, "url"),
        ({"stars": 5}, "stars"),
    ],
)
def test_place_bodies_are_validated(api, organizer, change, field):
    r = api.post("/places", {**place("Cafe", "restaurant", (-33.87, 151.21)), **change}, token=organizer[0])
    assert r.status == 400, r.body
    assert field in {d["field"] for d in r.body["details"]}


def test_missing_fields_and_junk_are_400(api, organizer):
    assert api.post("/places", {"name": "Cafe"}, token=organizer[0]).status == 400
    assert api.post("/places", raw="not json", token=organizer[0]).status == 400


# --- recommendations -------------------------------------------------------------------------------
def test_nearest_first_then_best_rated_within_the_radius(api, organizer):
    token, event = organizer
    lat, lon = VENUE["lat"], VENUE["lon"]
    spots = [
        place("Across The Line", "restaurant", destination(lat, lon, 90, 220), 4.0),  # the next cell east
        place("Tied Bistro", "restaurant", destination(lat, lon, 0, 270), 4.8),  # same 100 m band: better rated
        place("Station", "transport", destination(lat, lon, 180, 1000), 3.5),
        place("Museum", "activity", destination(lat, lon, 270, 2900), 4.9),
        place("Just Too Far", "activity", destination(lat, lon, 45, 3500), 5.0),  # in the 3x3 block, out of range
        place("Other Town", "restaurant", destination(lat, lon, 200, 50_000), 5.0),
    ]
    for body in spots:
        assert api.post("/places", body, token=token).status == 201
    r = api.get(f"/events/{event['id']}/recommendations")
    assert r.status == 200 and r.body["next_cursor"] is None
    assert names(r) == ["Tied Bistro", "Across The Line", "Station", "Museum"]
    for item in r.body["items"]:
        assert set(item) == {"id", "name", "kind", "lat", "lon", "rating", "url", "distance_m"}
        assert abs(item["distance_m"] - haversine(lat, lon, item["lat"], item["lon"])) <= 3
    assert [round(i["distance_m"], -1) for i in r.body["items"]] == [270, 220, 1000, 2900]

    path = f"/events/{event['id']}/recommendations"
    assert names(api.get(f"{path}?kind=restaurant")) == ["Tied Bistro", "Across The Line"]
    assert names(api.get(f"{path}?kind=activity")) == ["Museum"]
    assert names(api.get(f"{path}?kind=transport&limit=5")) == ["Station"]
    assert names(api.get(f"{path}?limit=1")) == ["Tied Bistro"]


def test_ties_in_a_band_go_by_rating_then_name(api, organizer):
    token, event = organizer
    lat, lon = VENUE["lat"], VENUE["lon"]
    for name, metres, rating in [("b", 410, 4.5), ("a", 480, 4.5), ("c", 420, 3.0), ("d", 390, 1.0)]:
        body = place(name, "activity", destination(lat, lon, 120, metres), rating)
        assert api.post("/places", body, token=token).status == 201
    assert names(api.get(f"/events/{event['id']}/recommendations")) == ["d", "a", "b", "c"]


def test_recommendation_errors(api, organizer):
    _, event = organizer
    r = api.get(f"/events/{event['id']}/recommendations?kind=bar")
    assert r.status == 400 and "restaurant, transport, activity" in r.body["message"]
    assert api.get(f"/events/{event['id']}/recommendations?limit=0").status == 400
    assert api.get(f"/events/{event['id']}/recommendations?limit=101").status == 400
    assert api.get("/events/NOPE/recommendations").status == 404
    assert api.get(f"/events/{event['id']}/recommendations").body == {"items": [], "next_cursor": None}


@pytest.mark.parametrize(
    ("venue", "spot", "expected"),
    [
        ((0.0, 179.99), (0.0, -179.99), ["across"]),  # 2.2 km across the antimeridian
        ((0.0, -179.995), (0.001, 179.998), ["across"]),
        ((89.99, 0.0), (89.999, 120.0), []),  # near the pole the radius shrinks to nothing
        ((-89.9999, 10.0), (-90.0, 0.0), []),
        ((90.0, 180.0), (90.0, 180.0), ["across"]),  # the very corner of the grid: distance 0, radius 0
        ((-90.0, -180.0), (-89.0, -180.0), []),
    ],
)
def test_the_edges_of_the_grid(api, organizer, venue, spot, expected):
    token, _ = organizer
    event = api.create_event(token, venue={**VENUE, "lat": venue[0], "lon": venue[1]})
    assert api.post("/places", place("across", "transport", spot), token=token).status == 201
    r = api.get(f"/events/{event['id']}/recommendations")
    assert r.status == 200 and names(r) == expected


# --- demo data -------------------------------------------------------------------------------------
def social(api, stream):
    """Alice's feed (the organizer's posts) and Bob's bookmarks, once the activity consumer ran."""
    stream.flush()
    tokens = {}
    for who in ("demo.alice", "demo.bob"):
        r = api.post("/auth/login", {"username": who, "password": "boxoffice demo night 2025"})
        tokens[who] = r.body["access_token"]
    feed = api.get("/posts", token=tokens["demo.alice"]).body["items"]
    marks = api.get("/me/bookmarks", token=tokens["demo.bob"]).body["items"]
    return [p["body"] for p in feed], [e["title"] for e in marks]


def test_demo_data_fills_an_empty_table_and_runs_again(api, aws, stream):
    first = CliRunner().invoke(cli, ["demo-data", "--yes"])
    assert first.exit_code == 0, first.output
    assert "places: 22 added, 0 already there" in first.output
    login = api.post("/auth/login", {"username": "demo.alice", "password": "boxoffice demo night 2025"})
    assert login.status == 200
    events = [e for e in api.get("/events").body["items"] if e["title"] == "Harbour Lights Orchestra"]
    assert len(events) == 1
    full = api.get(f"/events/{events[0]['id']}").body
    assert {s["kind"] for s in full["sections"]} == {"ga", "reserved"}
    recs = api.get(f"/events/{events[0]['id']}/recommendations").body["items"]
    assert {p["kind"] for p in recs} == {"restaurant", "transport", "activity"}
    assert recs[0]["name"] == "Bennelong"
    feed, marks = social(api, stream)
    assert len(feed) == 2 and all("see you there" in b or "row A" in b for b in feed)
    assert marks == ["Harbour Lights Orchestra"]

    again = CliRunner().invoke(cli, ["demo-data", "--yes"])
    assert again.exit_code == 0, again.output
    assert "places: 0 added, 22 already there" in again.output and "(already there)" in again.output
    assert [e["title"] for e in api.get("/events").body["items"]].count("Harbour Lights Orchestra") == 1
    assert social(api, stream) == (feed, marks)  # nothing made twice


def test_demo_data_wants_a_local_endpoint_or_yes(api, aws):
    result = CliRunner().invoke(cli, ["demo-data"])
    assert result.exit_code != 0 and "--yes" in result.output
