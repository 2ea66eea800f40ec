"""Every minute: give back the capacity and seats of holds that have expired.

Expiry itself is exact without this job (every condition compares the hold's
``expires_at`` with now, so an expired seat can be taken at once); the job
moves what expired back from ``held`` to ``remaining``, so counts and seat maps
read right and the waiting list gets its offers. It walks GSI1's minute
buckets from where the last run stopped, so a pause (a stopped local cloud, a
failed run) is made up for on the next run.
"""

from __future__ import annotations

import logging
from datetime import timedelta
from typing import Any

from chalicelib.domain import holds
from chalicelib.domain.ids import utcnow
from chalicelib.store import holds as store

log = logging.getLogger("boxoffice.jobs")
FIRST_LOOKBACK = timedelta(days=1)  # with no checkpoint yet: how far back to look


def run(event: dict[str, Any] | None = None) -> dict[str, Any]:
    now = utcnow()
    since = store.sweep_checkpoint() or (now - FIRST_LOOKBACK).strftime("%Y-%m-%dT%H:%M")
    expired, resume = holds.sweep(now, since)
    store.save_sweep_checkpoint(resume)
    if expired:
        log.info("expired %d holds", expired)
    return {"expired": expired, "next_from": resume}
