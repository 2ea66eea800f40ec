from __future__ import annotations

import logging
from typing import Any

from chalicelib.domain import reports

log = logging.getLogger("boxoffice.jobs")


def run(event: Any = None) -> dict[str, Any]:
    """The daily sales report for today (UTC): table items and a CSV in S3."""
    made = reports.generate()
    day = made[0].date if made else None
    log.info("sales report: %d events", len(made))
    return {"events": len(made), "date": day}
