"""The simulated per-partition write budget: DynamoDB's costs, a bucket per partition."""

from __future__ import annotations

from infra.local.budget import PartitionBudget, write_costs


class Clock:
    def __init__(self) -> None:
        self.now = 100.0

    def __call__(self) -> float:
        return self.now


def _put(pk: str, payload: int = 10) -> dict:
    return {"TableName": "t", "Item": {"PK": {"S": pk}, "SK": {"S": "x"}, "data": {"S": "a" * payload}}}


def test_costs_are_dynamodbs_one_unit_a_kb_and_double_in_a_transaction():
    assert write_costs("PutItem", _put("A")) == [("t/A", 1)]
    assert write_costs("PutItem", _put("A", 3000)) == [("t/A", 3)]
    assert write_costs("UpdateItem", {"TableName": "t", "Key": {"PK": {"S": "B"}, "SK": {"S": "y"}}}) == [("t/B", 1)]
    tx = {
        "TransactItems": [
            {"ConditionCheck": {"TableName": "t", "Key": {"PK": {"S": "E"}, "SK": {"S": "e"}}}},
            {"Update": {"TableName": "t", "Key": {"PK": {"S": "S"}, "SK": {"S": "s"}}}},
            {"Put": _put("O", 1500)},
        ]
    }
    assert write_costs("TransactWriteItems", tx) == [("t/E", 2), ("t/S", 2), ("t/O", 4)]
    batch = {
        "RequestItems": {
            "t": [{"PutRequest": {"Item": _put("P")["Item"]}}, {"DeleteRequest": {"Key": {"PK": {"S": "Q"}}}}]
        }
    }
    assert write_costs("BatchWriteItem", batch) == [("t/P", 1), ("t/Q", 1)]
    assert write_costs("GetItem", {"TableName": "t"}) == []


def test_a_partition_gets_its_budget_a_second_and_others_are_independent():
    clock = Clock()
    budget = PartitionBudget(10, clock)
    assert [budget.charge([("t/hot", 2)]) for _ in range(5)] == [[]] * 5  # 10 units: full
    assert budget.charge([("t/hot", 2)]) == [0]  # over: refused
    assert budget.charge([("t/cold", 2), ("t/hot", 1)]) == [1]  # all or nothing: cold not charged either
    assert budget.charge([("t/cold", 10)]) == []  # it was not
    clock.now = 100.1  # a tenth of a second refills 1 unit
    assert budget.charge([("t/hot", 2)]) == [0]
    clock.now = 100.2
    assert budget.charge([("t/hot", 2)]) == []
    clock.now += 60  # never more than one second's worth
    assert [budget.charge([("t/hot", 2)]) for _ in range(6)] == [[]] * 5 + [[0]]


def test_a_write_bigger_than_a_seconds_budget_passes_on_a_full_bucket_then_owes():
    clock = Clock()
    budget = PartitionBudget(4, clock)
    assert budget.charge([("t/big", 10)]) == []
    clock.now += 1  # 4 more: still 2 in debt
    assert budget.charge([("t/big", 1)]) == [0]
    clock.now += 1
    assert budget.charge([("t/big", 1)]) == []
