"""Stream handlers driven by real stream records: the table's own stream (moto),
read after real API calls, shaped as Lambda shapes them, invoked through
chalice.test.Client's Lambda client."""

from __future__ import annotations

from typing import Any

import boto3
import pytest
from moto.core import DEFAULT_ACCOUNT_ID
from moto.ses.models import ses_backends

from chalicelib.settings import get_settings, reset_settings
from infra.local.poller import StreamReader


class Stream:
    def __init__(self, chalice_client: Any) -> None:
        table = get_settings().table_name
        self.reader = StreamReader(boto3.client("dynamodb"), boto3.client("dynamodbstreams"), table, "us-east-1")
        self.client = chalice_client

    def read(self) -> list[dict[str, Any]]:
        """Every record written since the last read."""
        return [record for _, record in self.reader.read(limit=100_000)]

    def deliver(self, function: str, records: list[dict[str, Any]]) -> dict[str, Any]:
        response = self.client.lambda_.invoke(function, {"Records": records})
        payload: dict[str, Any] = response.payload
        return payload

    def both(self, records: list[dict[str, Any]]) -> None:
        for function in ("billing", "activity"):
            assert self.deliver(function, records) == {"batchItemFailures": []}

    def flush(self, rounds: int = 50) -> list[dict[str, Any]]:
        """Read what is new and deliver it to both consumers, as Lambda would, until what the
        consumers wrote (fan-out steps, projections) has been delivered too. Returns every record."""
        delivered: list[dict[str, Any]] = []
        for _ in range(rounds):
            records = self.read()
            if not records:
                return delivered
            self.both(records)
            delivered += records
        raise AssertionError(f"the stream did not settle in {rounds} rounds")


def sent_mail() -> list[Any]:
    return list(ses_backends[DEFAULT_ACCOUNT_ID]["us-east-1"].sent_messages)


@pytest.fixture
def small_pages(monkeypatch):
    """Two recipients per fan-out step (FANOUT_PAGE), so a handful of users takes several."""
    monkeypatch.setenv("FANOUT_PAGE", "2")
    reset_settings()
    yield
    monkeypatch.delenv("FANOUT_PAGE")
    reset_settings()
