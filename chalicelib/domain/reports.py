"""The daily sales report: per event, tickets sold, held, remaining and revenue per section.

It reads events month by month from GSI1 and each event's sections from its
partition (Queries, never a Scan), stores one item per event under the date,
and writes the same rows as CSV to S3.
"""

from __future__ import annotations

import csv
import io
from datetime import UTC, datetime, time, timedelta
from datetime import date as Date
from typing import Any

from chalicelib.auth.permissions import Permission
from chalicelib.domain.auth import Caller
from chalicelib.domain.errors import Forbidden
from chalicelib.domain.events import next_month, sales_rows
from chalicelib.domain.ids import iso, utcnow
from chalicelib.settings import get_settings
from chalicelib.store import events as event_store
from chalicelib.store import reports as store
from chalicelib.store.events import Event
from chalicelib.store.pagination import Page
from chalicelib.store.reports import SalesReport

LOOK_BACK = timedelta(days=31)
LOOK_AHEAD = timedelta(days=2 * 366)
CSV_COLUMNS = [
    "date",
    "event_id",
    "title",
    "starts_at",
    "status",
    "section",
    "capacity",
    "sold",
    "held",
    "remaining",
    "revenue_cents",
    "currency",
]


def events_around(day: Date) -> list[Event]:
    """Events starting from a month before ``day`` to two years after it."""
    start = datetime.combine(day, time.min, UTC) - LOOK_BACK
    end = datetime.combine(day, time.min, UTC) + LOOK_AHEAD
    found: list[Event] = []
    month = iso(start)[:7]
    while month <= iso(end)[:7]:
        found += [
            e for e in event_store.query_month(month, iso(start), iso(end), None, None, None) if isinstance(e, Event)
        ]
        month = next_month(month)
    return found


def generate(day: Date | None = None) -> list[SalesReport]:
    """Make (or remake) the report for ``day`` (today, UTC, by default)."""
    day = day or utcnow().date()
    generated_at = iso(utcnow())
    reports = []
    for event in events_around(day):
        _, sections = event_store.load(event.event_id)
        rows, totals = sales_rows(sections)
        report = SalesReport(
            date=day.isoformat(),
            event_id=event.event_id,
            title=event.title,
            starts_at=event.starts_at,
            organizer_id=event.organizer_id,
            status=event.status,
            currency=event.currency,
            sections=rows,
            totals=totals,
            generated_at=generated_at,
        )
        store.save(report)
        reports.append(report)
    _upload_csv(day, reports)
    return reports


def csv_key(day: Date) -> str:
    return f"sales/{day.isoformat()}.csv"


def _upload_csv(day: Date, reports: list[SalesReport]) -> None:
    import boto3  # lazily: only the job writes to S3

    out = io.StringIO()
    writer = csv.DictWriter(out, fieldnames=CSV_COLUMNS)
    writer.writeheader()
    for r in reports:
        for s in r.sections:
            writer.writerow(
                {
                    "date": r.date,
                    "event_id": r.event_id,
                    "title": r.title,
                    "starts_at": r.starts_at,
                    "status": r.status,
                    "section": s["code"],
                    "capacity": s["capacity"],
                    "sold": s["sold"],
                    "held": s["held"],
                    "remaining": s["remaining"],
                    "revenue_cents": s["revenue_cents"],
                    "currency": s["currency"],
                }
            )
    boto3.client("s3", region_name=get_settings().region).put_object(
        Bucket=get_settings().reports_bucket, Key=csv_key(day), Body=out.getvalue().encode(), ContentType="text/csv"
    )


def view(r: SalesReport) -> dict[str, Any]:
    return {
        "date": r.date,
        "event_id": r.event_id,
        "title": r.title,
        "starts_at": r.starts_at,
        "status": r.status,
        "currency": r.currency,
        "sections": r.sections,
        "totals": r.totals,
        "generated_at": r.generated_at,
    }


def list_for(caller: Caller, day: Date, limit: int, cursor: str | None) -> Page[SalesReport]:
    if not caller.can(Permission.VIEW_ALL):
        raise Forbidden("Sales reports need can_view_all.")
    return store.list_for(day.isoformat(), limit, cursor)


def tickets_sold(event_id: str) -> dict[str, Any]:
    """Totals for one event, straight from its sections (the CLI's tickets-sold)."""
    event, sections = event_store.load(event_id)
    rows, totals = sales_rows(sections)
    return {"event_id": event_id, "title": event.title, "currency": event.currency, "sections": rows, "totals": totals}
