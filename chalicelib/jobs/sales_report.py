from __future__ import annotations

import logging
from datetime import UTC, datetime
from typing import Any

from chalicelib.domain import reports

log = logging.getLogger("boxoffice.jobs")


def run(event: dict[str, Any] | None = None) -> dict[str, Any]:
    """The daily sales report for the day the schedule fired (UTC): table items and a CSV in S3.

    The day comes from the event's ``time``, so a late or retried run still
    files its report under the day it was meant for.
    """
    when = (event or {}).get("time")
    day = datetime.fromisoformat(when.replace("Z", "+00:00")).astimezone(UTC).date() if when else None
    made = reports.generate(day)
    log.info("sales report: %d events", len(made))
    return {"events": len(made), "date": made[0].date if made else (day.isoformat() if day else None)}
