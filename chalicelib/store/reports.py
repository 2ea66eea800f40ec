"""Daily sales reports: one item per event per date, under the date's partition."""

from __future__ import annotations

from pynamodb.attributes import JSONAttribute, UnicodeAttribute

from chalicelib.store import keys
from chalicelib.store.pagination import Page, decode_cursor, page
from chalicelib.store.table import Item


class SalesReport(Item, discriminator="sales_report"):
    date = UnicodeAttribute()
    event_id = UnicodeAttribute()
    title = UnicodeAttribute()
    starts_at = UnicodeAttribute()
    organizer_id = UnicodeAttribute()
    status = UnicodeAttribute()
    currency = UnicodeAttribute()
    sections = JSONAttribute()
    totals = JSONAttribute()
    generated_at = UnicodeAttribute()

    def set_keys(self) -> SalesReport:
        self.pk, self.sk = keys.sales_report(self.date, self.event_id)
        return self


def save(report: SalesReport) -> None:
    # Rerunning the job for a date replaces that date's snapshot: last write wins by design.
    report.set_keys().save()


def list_for(date: str, limit: int, cursor: str | None) -> Page[SalesReport]:
    scope = keys.sales_reports(date)
    start = decode_cursor(cursor, scope)
    results = Item.query(scope, limit=limit, last_evaluated_key=start)
    return page(results, limit, SalesReport, scope)
