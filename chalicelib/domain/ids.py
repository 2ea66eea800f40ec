from __future__ import annotations

import hashlib
from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from ulid import ULID

# Tests move the clock forward (hold expiry) without sleeping: every "now" in the app comes from utcnow().
_skew = [timedelta(0)]


def _ulid() -> type[ULID]:
    # Imported on first use: python-ulid reads its version from the package metadata when imported
    # (importlib.metadata, ~20 ms), which a cold start that makes no id need not pay.
    from ulid import ULID

    return ULID


def new_id() -> str:
    """An opaque, time-sortable id (ULID)."""
    return str(_ulid()())


def utcnow() -> datetime:
    return datetime.now(UTC) + _skew[0]


def skew_clock(by: timedelta) -> None:
    """Move this process's clock (tests only); ``timedelta(0)`` puts it back."""
    _skew[0] = by


def iso(dt: datetime) -> str:
    """ISO 8601 in UTC with a Z suffix, to the millisecond: sorts as text."""
    return dt.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.") + f"{dt.microsecond // 1000:03d}Z"


def parse_iso(text: str) -> datetime:
    """An instant as :func:`iso` writes it (``...Z``)."""
    return datetime.fromisoformat(text.replace("Z", "+00:00"))


def derived_id(seed: str, at: datetime) -> str:
    """A ULID that sorts by ``at`` and is the same for the same seed: an idempotent id for derived items."""
    digest = hashlib.sha256(seed.encode()).digest()
    millis = int(at.timestamp() * 1000).to_bytes(6, "big")
    return str(_ulid().from_bytes(millis + digest[:10]))
