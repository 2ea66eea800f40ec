"""Sharded sections: a section's capacity over K items (K = 1, 3, 8), driven by a state machine
of buy / cancel / hold / pay / release through the HTTP routes. After every step, summed over the
shards as they are in the table: ``sold + held + remaining == capacity``, every shard's counters
are ≥ 0, and they are what the model expects; and no request was told "sold out" while the
section (all shards together) had what it asked for."""

from __future__ import annotations

from typing import Any

import boto3
from chalice.test import Client
from hypothesis import HealthCheck, settings
from hypothesis import strategies as st
from hypothesis.stateful import RuleBasedStateMachine, initialize, invariant, precondition, rule
from moto import mock_aws

from chalicelib.settings import get_settings, reset_settings
from chalicelib.store.table import create_table
from tests.support import Api

CAPACITY = 13  # over 3 shards: 5, 4, 4; over 8: 6, 1, 1, ... (many requests need several shards)
HOLDERS = 3  # one live hold per user per event: several users hold at once
QUANTITIES = st.integers(min_value=1, max_value=5)


class ShardedSection(RuleBasedStateMachine):
    shards = 1

    def __init__(self) -> None:
        super().__init__()
        reset_settings()
        self.mock = mock_aws()
        self.mock.start()
        create_table(boto3.client("dynamodb"))
        from app import app

        self.client = Client(app, stage_name="local")
        self.client.__enter__()
        self.api = Api.over_chalice(self.client)
        self.orders: dict[str, int] = {}  # confirmed order id -> quantity
        self.holds: dict[int, tuple[str, int]] = {}  # holder -> (live hold id, quantity)

    @initialize()
    def setup(self) -> None:
        _, self.org = self.api.register()
        _, self.buyer = self.api.register()
        self.holders = [self.api.register()[1] for _ in range(HOLDERS)]
        section = {"code": "GA", "name": "Floor", "price_cents": 100, "capacity": CAPACITY, "shards": self.shards}
        event = self.api.create_event(self.org, sections=[section], max_tickets_per_order=5)
        assert event["sections"][0]["shards"] == self.shards
        self.event = event["id"]

    # -- the model ------------------------------------------------------------------------------

    def sold(self) -> int:
        return sum(self.orders.values())

    def held(self) -> int:
        return sum(q for _, q in self.holds.values())

    def remaining(self) -> int:
        return CAPACITY - self.sold() - self.held()

    def refused_as_sold_out(self, r: Any, quantity: int) -> None:
        """Only when all the shards together lack the quantity: never a false sold-out."""
        assert quantity > self.remaining(), f"false sold-out: {quantity} asked, {self.remaining()} left: {r.body}"
        assert r.status == 409 and r.body["code"] == "SoldOut", r.body
        assert r.body["remaining"] == self.remaining(), r.body

    # -- rules ----------------------------------------------------------------------------------

    @rule(quantity=QUANTITIES)
    def buy(self, quantity: int) -> None:
        r = self.api.buy(self.buyer, self.event, quantity)
        if r.status == 201:
            assert quantity <= self.remaining()
            self.orders[r.body["id"]] = quantity
        else:
            self.refused_as_sold_out(r, quantity)

    @precondition(lambda self: bool(self.orders))
    @rule(data=st.data())
    def cancel(self, data: st.DataObject) -> None:
        order_id = data.draw(st.sampled_from(sorted(self.orders)))
        r = self.api.post(f"/orders/{order_id}/cancel", token=self.org)  # the organizer may cancel any
        assert r.status == 200, r.body
        del self.orders[order_id]

    @rule(holder=st.integers(min_value=0, max_value=HOLDERS - 1), quantity=QUANTITIES)
    def hold(self, holder: int, quantity: int) -> None:
        body = {"section": "GA", "quantity": quantity}
        r = self.api.post(f"/events/{self.event}/holds", body, token=self.holders[holder])
        if holder in self.holds:
            assert r.status == 409 and r.body["code"] == "HoldExists", r.body
        elif r.status == 201:
            assert quantity <= self.remaining()
            self.holds[holder] = (r.body["id"], quantity)
        else:
            self.refused_as_sold_out(r, quantity)

    @precondition(lambda self: bool(self.holds))
    @rule(data=st.data())
    def release(self, data: st.DataObject) -> None:
        holder = data.draw(st.sampled_from(sorted(self.holds)))
        r = self.api.delete(f"/holds/{self.holds[holder][0]}", token=self.holders[holder])
        assert r.status == 204, r.body
        del self.holds[holder]

    @precondition(lambda self: bool(self.holds))
    @rule(data=st.data())
    def pay(self, data: st.DataObject) -> None:
        holder = data.draw(st.sampled_from(sorted(self.holds)))
        hold_id, quantity = self.holds[holder]
        r = self.api.post(f"/events/{self.event}/orders", {"hold_id": hold_id}, token=self.holders[holder])
        assert r.status == 201 and r.body["quantity"] == quantity, r.body
        del self.holds[holder]
        self.orders[r.body["id"]] = quantity

    # -- invariants -----------------------------------------------------------------------------

    @invariant()
    def shards_sum_to_the_section(self) -> None:
        if not hasattr(self, "event"):
            return
        items = _counters(self.event)
        assert len(items) == self.shards
        for item in items:
            assert min(item["sold"], item["held"], item["remaining"]) >= 0, items
        totals = {name: sum(item[name] for item in items) for name in ("sold", "held", "remaining")}
        assert totals["sold"] + totals["held"] + totals["remaining"] == CAPACITY, items
        assert (totals["sold"], totals["held"]) == (self.sold(), self.held()), (totals, self.orders, self.holds)
        assert sum(item["revenue_cents"] for item in items) == 100 * self.sold()
        ga = self.api.get(f"/events/{self.event}").body["sections"][0]  # one section, the sums
        assert (ga["sold"], ga["held"], ga["remaining"], ga["shards"]) == (
            self.sold(),
            self.held(),
            self.remaining(),
            self.shards,
        )

    def teardown(self) -> None:
        self.client.__exit__(None, None, None)
        self.mock.stop()


def _counters(event_id: str) -> list[dict[str, int]]:
    """The section item (shard 0) and its shard items, read straight from the table."""
    client = boto3.client("dynamodb")
    table = get_settings().table_name
    keys = [{"PK": {"S": f"EVENT#{event_id}"}, "SK": {"S": "SECTION#GA"}}]
    keys += [{"PK": {"S": f"SHARD#{event_id}#GA#{i}"}, "SK": {"S": "SHARD"}} for i in range(1, 8)]
    items = client.batch_get_item(RequestItems={table: {"Keys": keys, "ConsistentRead": True}})["Responses"][table]
    names = ("sold", "held", "remaining", "revenue_cents")
    return [{n: int(item.get(n, {"N": "0"})["N"]) for n in names} for item in items]


SETTINGS = settings(max_examples=8, stateful_step_count=20, deadline=None, suppress_health_check=list(HealthCheck))


class OneShard(ShardedSection):
    shards = 1


class ThreeShards(ShardedSection):
    shards = 3


class EightShards(ShardedSection):
    shards = 8


for machine in (OneShard, ThreeShards, EightShards):
    machine.TestCase.settings = SETTINGS
TestOneShard = OneShard.TestCase
TestThreeShards = ThreeShards.TestCase
TestEightShards = EightShards.TestCase


# -- the section's shape --------------------------------------------------------------------------


def test_a_large_section_is_sharded_by_default_and_a_small_one_is_not(api: Api) -> None:
    _, org = api.register()
    sections = [
        {"code": "GA", "name": "Floor", "price_cents": 100, "capacity": 4_999},
        {"code": "B", "name": "Lawn", "price_cents": 100, "capacity": 40_000},
        {"code": "C", "name": "Hill", "price_cents": 100, "capacity": 10_000},
    ]
    event = api.create_event(org, sections=sections)
    shards = {s["code"]: s["shards"] for s in event["sections"]}
    assert shards == {"GA": 1, "B": 16, "C": 4}
    b = next(s for s in event["sections"] if s["code"] == "B")
    assert (b["remaining"], b["capacity"]) == (40_000, 40_000)


def test_shards_are_checked_and_fixed_once_the_section_exists(api: Api) -> None:
    _, org = api.register()
    event = api.create_event(org, sections=[{"code": "GA", "name": "F", "price_cents": 1, "capacity": 50, "shards": 4}])
    for bad in (0, 33, "4"):
        section = {"code": "GA", "name": "F", "price_cents": 1, "capacity": 50, "shards": bad}
        r = api.post("/events", {**_event_body(), "sections": [section]}, token=org)
        assert r.status == 400, r.body
    seated = {"code": "A", "name": "Stalls", "price_cents": 1, "rows": 2, "seats_per_row": 5, "shards": 2}
    r = api.post("/events", {**_event_body(), "sections": [seated]}, token=org)
    assert r.status == 400 and "general-admission" in str(r.body), r.body
    r = api.patch(f"/events/{event['id']}", {"sections": [{"code": "GA", "shards": 2}]}, token=org)
    assert r.status == 400 and "fixed" in r.body["message"], r.body
    r = api.patch(f"/events/{event['id']}", {"sections": [{"code": "GA", "shards": 4, "capacity": 60}]}, token=org)
    assert r.status == 200 and r.body["sections"][0]["remaining"] == 60, r.body
    too_many = [{"code": f"S{i}", "name": "x", "price_cents": 1, "capacity": 100, "shards": 32} for i in range(4)]
    r = api.post("/events", {**_event_body(), "sections": too_many}, token=org)
    assert r.status == 400 and "100 items" in r.body["message"], r.body


def test_an_order_bigger_than_any_shard_is_served_from_several_in_one_transaction(api: Api) -> None:
    _, org = api.register()
    _, buyer = api.register()
    section = {"code": "GA", "name": "F", "price_cents": 250, "capacity": 16, "shards": 8}  # 2 in each
    event = api.create_event(org, sections=[section], max_tickets_per_order=10)["id"]
    r = api.buy(buyer, event, 7)
    assert r.status == 201, r.body
    assert sorted(item["sold"] for item in _counters(event) if item["sold"]) == [1, 2, 2, 2]
    r = api.buy(buyer, event, 10)
    assert r.status == 409 and r.body["remaining"] == 9, r.body
    assert api.buy(buyer, event, 9).status == 201
    assert [item["remaining"] for item in _counters(event)] == [0] * 8


def test_deleting_a_sharded_section_deletes_its_shards(api: Api) -> None:
    _, org = api.register()
    sections = [
        {"code": "GA", "name": "F", "price_cents": 1, "capacity": 40, "shards": 4},
        {"code": "B", "name": "G", "price_cents": 1, "capacity": 10},
    ]
    event = api.create_event(org, sections=sections)["id"]
    r = api.put(f"/events/{event}", {**_event_body(), "sections": [sections[1]]}, token=org)
    assert r.status == 200, r.body
    assert _counters(event) == []


def _event_body() -> dict[str, Any]:
    from tests.support import event_body

    return {k: v for k, v in event_body().items() if k != "sections"}


def test_cancelling_a_sharded_event_closes_every_shard_and_refunds(api: Api) -> None:
    """A sharded sale checks its shards, not the event item (one partition for every sale would
    undo the sharding): the cancellation closes each shard in its own transaction."""
    _, org = api.register()
    _, buyer = api.register()
    event = api.create_event(org, sections=[{"code": "GA", "name": "F", "price_cents": 5, "capacity": 30, "shards": 3}])
    order = api.buy(buyer, event["id"], 4).body
    assert api.delete(f"/events/{event['id']}", token=org).status in (200, 204)
    client = boto3.client("dynamodb")
    table = get_settings().table_name
    keys = [{"PK": {"S": f"EVENT#{event['id']}"}, "SK": {"S": "SECTION#GA"}}]
    keys += [{"PK": {"S": f"SHARD#{event['id']}#GA#{i}"}, "SK": {"S": "SHARD"}} for i in (1, 2)]
    items = client.batch_get_item(RequestItems={table: {"Keys": keys, "ConsistentRead": True}})["Responses"][table]
    assert len(items) == 3 and all("closed" in item for item in items), items
    r = api.buy(buyer, event["id"], 1)
    assert r.status == 409 and r.body["code"] == "EventCancelled", r.body
    r = api.post(f"/events/{event['id']}/holds", {"section": "GA", "quantity": 1}, token=buyer)
    assert r.status == 409 and r.body["code"] == "EventCancelled", r.body
    assert api.get(f"/orders/{order['id']}", token=buyer).body["status"] == "cancelled"
    assert sum(item["sold"] for item in _counters(event["id"])) == 0
