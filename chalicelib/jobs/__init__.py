"""Scheduled work, registered with @app.schedule in app.py."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Any


def scheduled_event(rule: str, at: datetime, region: str, account: str = "000000000000") -> dict[str, Any]:
    """The event EventBridge hands a scheduled function (for firing a job by hand or locally)."""
    return {
        "version": "0",
        "id": str(uuid.uuid4()),
        "detail-type": "Scheduled Event",
        "source": "aws.events",
        "account": account,
        "time": at.strftime("%Y-%m-%dT%H:%M:%SZ"),
        "region": region,
        "resources": [f"arn:aws:events:{region}:{account}:rule/{rule}"],
        "detail": {},
    }
