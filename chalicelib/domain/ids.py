from __future__ import annotations

from datetime import UTC, datetime

from ulid import ULID


def new_id() -> str:
    """An opaque, time-sortable id (ULID)."""
    return str(ULID())


def utcnow() -> datetime:
    return datetime.now(UTC)


def iso(dt: datetime) -> str:
    """ISO 8601 in UTC with a Z suffix, to the millisecond: sorts as text."""
    return dt.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.") + f"{dt.microsecond // 1000:03d}Z"
