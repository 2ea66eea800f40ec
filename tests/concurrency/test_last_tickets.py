"""Many buyers race for the last tickets over real HTTP: exactly N win, the rest get 409."""

from __future__ import annotations

import threading
from collections import Counter
from concurrent.futures import ThreadPoolExecutor

import pytest

from tests.concurrency.conftest import api_of

pytestmark = pytest.mark.local_cloud

LAST = 5
BUYERS = 40


def test_exactly_the_last_n_tickets_are_sold(cloud):
    api = api_of(cloud)
    _, org = api.register()
    sections = [{"code": "GA", "name": "Floor", "price_cents": 1000, "capacity": 25}]
    event = api.create_event(org, sections=sections)["id"]
    _, early = api.register()
    for _ in range(4):  # 20 of 25 sold beforehand: 5 left
        assert api.buy(early, event, 5).status == 201
    tokens = [api.register()[1] for _ in range(BUYERS)]
    start = threading.Barrier(BUYERS)

    def attempt(token: str) -> tuple[int, str | None]:
        start.wait()
        r = api.buy(token, event, 1)
        return r.status, (r.body or {}).get("code")

    with ThreadPoolExecutor(max_workers=BUYERS) as pool:
        results = list(pool.map(attempt, tokens))
    statuses = Counter(status for status, _ in results)
    assert statuses == {201: LAST, 409: BUYERS - LAST}, results
    assert all(code == "SoldOut" for status, code in results if status == 409)
    ga = api.get(f"/events/{event}").body["sections"][0]
    assert (ga["sold"], ga["held"], ga["remaining"]) == (25, 0, 0)
    sales = api.get(f"/events/{event}/sales", token=org).body
    assert sales["totals"]["revenue_cents"] == 25 * 1000
    winners = [t for t, (status, _) in zip(tokens, results, strict=True) if status == 201]
    assert sum(len(api.get("/orders", token=t).body["items"]) for t in winners) == LAST


def test_concurrent_retries_with_one_key_sell_once(cloud):
    api = api_of(cloud)
    _, org = api.register()
    sections = [{"code": "GA", "name": "Floor", "price_cents": 1000, "capacity": 50}]
    event = api.create_event(org, sections=sections)["id"]
    _, buyer = api.register()
    tries = 12
    start = threading.Barrier(tries)

    def attempt(_: int) -> tuple[int, str | None]:
        start.wait()
        r = api.buy(buyer, event, 2, headers={"Idempotency-Key": "same-click"})
        return r.status, (r.body or {}).get("id")

    with ThreadPoolExecutor(max_workers=tries) as pool:
        results = list(pool.map(attempt, range(tries)))
    order_ids = {oid for status, oid in results if status == 201}
    assert len(order_ids) == 1, results
    assert all(status in (201, 409) for status, _ in results), results
    ga = api.get(f"/events/{event}").body["sections"][0]
    assert (ga["sold"], ga["remaining"]) == (2, 48)


def test_parallel_password_guesses_are_counted(cloud):
    api = api_of(cloud)
    user, _ = api.register()
    guesses = 30
    start = threading.Barrier(guesses)

    def guess(n: int) -> int:
        start.wait()
        return api.post("/auth/login", {"username": user["username"], "password": f"wrong guess {n:04d}"}).status

    with ThreadPoolExecutor(max_workers=guesses) as pool:
        statuses = Counter(pool.map(guess, range(guesses)))
    assert statuses == {401: 5, 429: guesses - 5}, statuses


def _race(api, event, tokens, quantity):
    """Everyone buys ``quantity`` at once; a 503 Busy is retried after its Retry-After, as a client
    would. The final status of each buyer."""
    start = threading.Barrier(len(tokens))

    def attempt(token: str) -> tuple[int, str | None]:
        start.wait()
        for _ in range(20):
            r = api.buy(token, event, quantity)
            if r.status != 503:
                break
            assert r.body["code"] == "Busy" and r.headers.get("retry-after"), r.body
        return r.status, (r.body or {}).get("code")

    with ThreadPoolExecutor(max_workers=len(tokens)) as pool:
        return list(pool.map(attempt, tokens))


@pytest.mark.parametrize("quantity", [1, 2])
def test_the_last_tickets_spread_over_shards_all_sell_and_no_more(cloud, quantity):
    """8 tickets left, 2 in each of 4 shards. As many buyers as there are tickets all win: a
    sold-out while enough remained elsewhere would leave one empty-handed. Then 20 more all lose."""
    api = api_of(cloud)
    _, org = api.register()
    sections = [{"code": "GA", "name": "Floor", "price_cents": 1000, "capacity": 40, "shards": 4}]
    event = api.create_event(org, sections=sections, max_tickets_per_order=10)["id"]
    _, early = api.register()
    for _ in range(4):  # 32 of 40 sold beforehand, 8 a time: some shards are left with less than others
        assert api.buy(early, event, 8).status == 201
    ga = api.get(f"/events/{event}").body["sections"][0]
    assert (ga["remaining"], ga["shards"]) == (8, 4)
    winners = [api.register()[1] for _ in range(8 // quantity)]
    results = _race(api, event, winners, quantity)
    assert Counter(status for status, _ in results) == {201: len(winners)}, results
    losers = [api.register()[1] for _ in range(20)]
    results = _race(api, event, losers, quantity)
    assert all(r == (409, "SoldOut") for r in results), results
    ga = api.get(f"/events/{event}").body["sections"][0]
    assert (ga["sold"], ga["held"], ga["remaining"]) == (40, 0, 0)
    sales = api.get(f"/events/{event}/sales", token=org).body
    assert sales["totals"]["revenue_cents"] == 40 * 1000
