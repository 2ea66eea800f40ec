"""Property: whatever sequence of buy / cancel / retry-with-the-same-key happens,
``sold + held + remaining == capacity`` and ``sold`` equals the confirmed tickets."""

from __future__ import annotations

import boto3
from chalice.test import Client
from hypothesis import HealthCheck, settings
from hypothesis import strategies as st
from hypothesis.stateful import RuleBasedStateMachine, initialize, invariant, precondition, rule
from moto import mock_aws

from chalicelib.settings import reset_settings
from chalicelib.store.table import create_table
from tests.support import Api

CAPACITY = 6


class Inventory(RuleBasedStateMachine):
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
        self.confirmed: dict[str, int] = {}  # order id -> quantity, as the model expects
        self.keys: dict[str, tuple[int, str]] = {}  # idempotency key -> (quantity, order id)

    @initialize()
    def setup(self) -> None:
        _, self.org = self.api.register()
        _, self.buyer = self.api.register()
        sections = [{"code": "GA", "name": "Floor", "price_cents": 100, "capacity": CAPACITY}]
        self.event = self.api.create_event(self.org, sections=sections, max_tickets_per_order=4)["id"]

    def remaining(self) -> int:
        return CAPACITY - sum(self.confirmed.values())

    @rule(quantity=st.integers(min_value=1, max_value=4), key=st.sampled_from([None, "k1", "k2", "k3"]))
    def buy(self, quantity: int, key: str | None) -> None:
        headers = {"Idempotency-Key": key} if key else {}
        r = self.api.buy(self.buyer, self.event, quantity, headers=headers)
        if key and key in self.keys:
            first_quantity, order_id = self.keys[key]
            if first_quantity == quantity:
                assert r.status == 201 and r.body["id"] == order_id  # replayed, nothing sold
            else:
                assert r.status == 409 and r.body["code"] == "IdempotencyKeyReused"
            return
        if quantity <= self.remaining():
            assert r.status == 201, r.body
            self.confirmed[r.body["id"]] = quantity
            if key:
                self.keys[key] = (quantity, r.body["id"])
        else:
            assert r.status == 409 and r.body["remaining"] == self.remaining()

    @precondition(lambda self: bool(self.confirmed))
    @rule(data=st.data())
    def cancel(self, data: st.DataObject) -> None:
        order_id = data.draw(st.sampled_from(sorted(self.confirmed)))
        r = self.api.post(f"/orders/{order_id}/cancel", token=self.buyer)
        assert r.status == 200, r.body
        del self.confirmed[order_id]

    @precondition(lambda self: bool(self.keys))
    @rule(data=st.data())
    def cancel_again(self, data: st.DataObject) -> None:
        _, order_id = data.draw(st.sampled_from(sorted(self.keys.values())))
        if order_id in self.confirmed:
            return
        r = self.api.post(f"/orders/{order_id}/cancel", token=self.buyer)
        assert r.status == 409

    @invariant()
    def counts_hold(self) -> None:
        if not hasattr(self, "event"):
            return
        ga = self.api.get(f"/events/{self.event}").body["sections"][0]
        assert ga["sold"] + ga["held"] + ga["remaining"] == ga["capacity"] == CAPACITY
        assert ga["sold"] == sum(self.confirmed.values())

    def teardown(self) -> None:
        self.client.__exit__(None, None, None)
        self.mock.stop()


Inventory.TestCase.settings = settings(
    max_examples=30, stateful_step_count=20, deadline=None, suppress_health_check=list(HealthCheck)
)
TestInventory = Inventory.TestCase
