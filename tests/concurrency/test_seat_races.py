"""Buyers and groups race for seats over real HTTP on the running local cloud (DynamoDB Local,
and a standalone moto server): every seat ends with at most one owner, and the section's
counters agree with the seat items."""

from __future__ import annotations

import random
import threading
from collections import Counter
from concurrent.futures import ThreadPoolExecutor

import pytest

from tests.concurrency.conftest import api_of, moto_cloud, running_cloud
from tests.support import section

pytestmark = pytest.mark.local_cloud


@pytest.fixture(scope="module", params=["dynamodb-local", "moto"])
def cloud(request):
    """The local cloud on DynamoDB Local, and on a moto server (found as LocalStack's endpoint
    is found; its requests serialised: see SerialMotoServer)."""
    # The stream consumers sleep (they are not what races here): on the serialised moto server their
    # writes (the search index of 30 new buyers) would queue before the buyers' own requests.
    asleep = {"args": ["--poll-interval", "3600"]}
    with (
        running_cloud("dynamodb-local", **asleep)
        if request.param == "dynamodb-local"
        else moto_cloud(**asleep) as running
    ):
        yield running


BUYERS = 30


def assert_seats_agree(api, event_id, orders):
    """Single ownership, and the counters match the seat items."""
    owners: dict[str, str] = {}
    for order in orders:
        for seat in order["seats"]:
            assert seat not in owners, f"{seat} sold twice: {owners[seat]} and {order['id']}"
            owners[seat] = order["id"]
    seat_map = api.get(f"/events/{event_id}/seats?section=A").body["seats"]
    statuses = {s["seat"]: s["status"] for s in seat_map}
    assert {s for s, status in statuses.items() if status == "sold"} == set(owners)
    sec = section(api.get(f"/events/{event_id}").body, "A")
    assert sec["sold"] + sec["held"] + sec["remaining"] == sec["capacity"], sec
    assert sec["sold"] == len(owners) and sec["held"] == Counter(statuses.values())["held"], sec
    return sec


def test_thirty_buyers_race_for_overlapping_seats(cloud):
    api = api_of(cloud)
    _, org = api.register()
    sections = [{"code": "A", "name": "Stalls", "price_cents": 1000, "rows": 2, "seats_per_row": 8}]
    event = api.create_event(org, sections=sections)["id"]
    tokens = [api.register()[1] for _ in range(BUYERS)]
    rng = random.Random(7)
    seats = [f"A-{row}-{n}" for row in (1, 2) for n in range(1, 9)]
    wanted = [rng.sample(seats, rng.randint(1, 4)) for _ in range(BUYERS)]
    start = threading.Barrier(BUYERS)

    def attempt(i: int):
        start.wait()
        return api.post(f"/events/{event}/orders", {"seats": wanted[i]}, token=tokens[i])

    with ThreadPoolExecutor(max_workers=BUYERS) as pool:
        results = list(pool.map(attempt, range(BUYERS)))
    assert {r.status for r in results} <= {201, 409}, [(r.status, r.body) for r in results]
    won = [r.body for r in results if r.status == 201]
    assert won, "somebody must win"
    for i, r in enumerate(results):
        if r.status == 201:
            assert sorted(r.body["seats"]) == sorted(wanted[i])  # all or nothing
        else:
            assert r.body["code"] == "SeatTaken" and set(r.body["seats"]) <= set(wanted[i]), r.body
    assert_seats_agree(api, event, won)
    # Each loser's named seats really are taken by a winner.
    sold = {s for o in won for s in o["seats"]}
    for r in results:
        if r.status == 409:
            assert set(r.body["seats"]) <= sold


def test_two_groups_race_for_the_same_block(cloud):
    api = api_of(cloud)
    _, org = api.register()
    sections = [{"code": "A", "name": "Stalls", "price_cents": 1000, "rows": 1, "seats_per_row": 8}]
    for _round in range(3):  # a few rounds: the race should be real, not one lucky ordering
        event = api.create_event(org, sections=sections)["id"]
        groups = [api.register()[1] for _ in range(2)]
        start = threading.Barrier(2)

        def hold(token: str, event: str = event, start: threading.Barrier = start):
            start.wait()
            return api.post(f"/events/{event}/holds", {"section": "A", "quantity": 4, "together": True}, token=token)

        with ThreadPoolExecutor(max_workers=2) as pool:
            results = list(pool.map(hold, groups))
        assert {r.status for r in results} <= {201, 409}, [(r.status, r.body) for r in results]
        made = [r.body for r in results if r.status == 201]
        assert made, [r.body for r in results]
        seats = [s for h in made for s in h["seats"]]
        assert len(seats) == len(set(seats)), made  # never the same seat twice
        for h in made:
            numbers = sorted(int(s.rsplit("-", 1)[1]) for s in h["seats"])
            assert numbers == list(range(numbers[0], numbers[0] + 4)), h  # adjacent
        for r in results:
            if r.status == 409:
                assert r.body["code"] == "NoAdjacentSeats", r.body
        sec = assert_seats_agree(api, event, [])
        assert sec["held"] == 4 * len(made)
