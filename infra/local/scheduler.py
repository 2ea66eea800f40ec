"""Fires the app's ``@app.schedule`` handlers on time, as EventBridge would.

Understands the two forms Chalice writes: ``rate(N minute|minutes|hour|hours|day|days)``
and ``cron(minute hour day-of-month month day-of-week year)`` with ``*``, ``?``,
numbers, lists, ranges and steps (day-of-week 1-7 is SUN-SAT, as in AWS).
"""

from __future__ import annotations

import logging
import re
import threading
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from chalicelib.jobs import scheduled_event

log = logging.getLogger("boxoffice.local.scheduler")

_RATE = re.compile(r"^rate\((\d+) (minute|minutes|hour|hours|day|days)\)$")
_UNITS = {"minute": 60, "hour": 3600, "day": 86400}
_BOUNDS = [(0, 59), (0, 23), (1, 31), (1, 12), (1, 7), (1970, 2199)]


def _field(spec: str, low: int, high: int) -> set[int] | None:
    """The values a cron field allows; None for any (``*`` or ``?``)."""
    if spec in ("*", "?"):
        return None
    values: set[int] = set()
    for part in spec.split(","):
        base, _, step = part.partition("/")
        if base in ("*", ""):
            start, end = low, high
        elif "-" in base:
            start, end = (int(x) for x in base.split("-", 1))
        else:
            start = end = int(base)
            if step:
                end = high
        values.update(range(start, end + 1, int(step or 1)))
    if not values or min(values) < low or max(values) > high:
        raise ValueError(f"cron field {spec!r} is outside {low}-{high}")
    return values


def next_fire(expression: str, after: datetime) -> datetime:
    """The first time strictly after ``after`` that the expression fires."""
    rate = _RATE.match(expression)
    if rate:
        seconds = int(rate.group(1)) * _UNITS[rate.group(2).rstrip("s")]
        return after + timedelta(seconds=seconds)
    if not (expression.startswith("cron(") and expression.endswith(")")):
        raise ValueError(f"unknown schedule expression {expression!r}")
    parts = expression[5:-1].split()
    if len(parts) != 6:
        raise ValueError(f"cron needs six fields: {expression!r}")
    minutes, hours, days, months, weekdays, years = (_field(p, *b) for p, b in zip(parts, _BOUNDS, strict=True))
    t = after.replace(second=0, microsecond=0) + timedelta(minutes=1)
    for _ in range(2 * 366 * 24 * 60):
        aws_weekday = (t.isoweekday() % 7) + 1  # SUN=1 .. SAT=7
        if (
            (months is None or t.month in months)
            and (days is None or t.day in days)
            and (weekdays is None or aws_weekday in weekdays)
            and (years is None or t.year in years)
            and (hours is None or t.hour in hours)
            and (minutes is None or t.minute in minutes)
        ):
            return t
        t += timedelta(minutes=1)
    raise ValueError(f"{expression!r} does not fire within two years")


@dataclass
class Job:
    name: str
    expression: str
    handler: Callable[[dict[str, Any], Any], Any]
    next_at: datetime


def jobs_of(app: Any, now: datetime) -> list[Job]:
    """Every schedule registered on a Chalice app."""
    found = []
    for source in app.event_sources:
        schedule = getattr(source, "schedule_expression", None)
        if schedule is None:
            continue
        expression = schedule if isinstance(schedule, str) else schedule.to_string()
        found.append(Job(source.name, expression, app.handler_map[source.name], next_fire(expression, now)))
    return found


class Scheduler(threading.Thread):
    def __init__(
        self,
        jobs: list[Job],
        region: str = "us-east-1",
        clock: Callable[[], datetime] = lambda: datetime.now(UTC),
        tick: float = 1.0,
    ) -> None:
        super().__init__(name="scheduler", daemon=True)
        self.jobs = jobs
        self.region = region
        self.clock = clock
        self.tick = tick
        self.fired: list[tuple[str, datetime]] = []
        self._halt = threading.Event()

    def run(self) -> None:
        while not self._halt.is_set():
            self.fire_due()
            self._halt.wait(self.tick)

    def fire_due(self) -> None:
        now = self.clock()
        for job in self.jobs:
            if job.next_at <= now:
                fire(job, job.next_at, self.region)
                self.fired.append((job.name, job.next_at))
                job.next_at = next_fire(job.expression, now)

    def stop(self, timeout: float = 2.0) -> None:
        self._halt.set()
        if self.is_alive():
            self.join(timeout=timeout)


def fire(job: Job, at: datetime, region: str) -> Any:
    log.info("firing %s (%s)", job.name, job.expression)
    try:
        return job.handler(scheduled_event(job.name, at, region), None)
    except Exception:
        log.exception("scheduled job %s failed", job.name)
        return None
