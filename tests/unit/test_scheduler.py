from __future__ import annotations

from datetime import UTC, datetime

import pytest

from infra.local.scheduler import next_fire


def at(s: str) -> datetime:
    return datetime.fromisoformat(s).replace(tzinfo=UTC)


@pytest.mark.parametrize(
    "expression, after, expected",
    [
        ("cron(55 23 * * ? *)", "2026-11-21T10:00:00", "2026-11-21T23:55:00"),
        ("cron(55 23 * * ? *)", "2026-11-21T23:55:00", "2026-11-22T23:55:00"),
        ("cron(0/15 * * * ? *)", "2026-11-21T10:07:30", "2026-11-21T10:15:00"),
        ("cron(0 9 ? * 2 *)", "2026-11-21T10:00:00", "2026-11-23T09:00:00"),  # 2 = Monday; the 21st is a Saturday
        ("cron(0 0 1 1,7 ? *)", "2026-11-21T00:00:00", "2027-01-01T00:00:00"),
        ("cron(30 8-10 * * ? *)", "2026-11-21T09:31:00", "2026-11-21T10:30:00"),
        ("rate(5 minutes)", "2026-11-21T10:00:00", "2026-11-21T10:05:00"),
        ("rate(1 day)", "2026-11-21T10:00:00", "2026-11-22T10:00:00"),
    ],
)
def test_next_fire(expression, after, expected):
    assert next_fire(expression, at(after)) == at(expected)


@pytest.mark.parametrize("expression", ["cron(61 * * * ? *)", "cron(* * *)", "every day", "rate(2 weeks)"])
def test_bad_expressions(expression):
    with pytest.raises(ValueError):
        next_fire(expression, at("2026-11-21T10:00:00"))
