"""A memo that lives for one stream batch (one handler invocation), never longer.

A batch of records often names the same event and organizer many times; a stream handler reads
them once per batch instead of once per record. Outside a batch (the API) nothing is memoised: a
request always reads what is there now. Within a batch a memoised event may be a few milliseconds
old: only what does not change a sale's outcome is read through it (an invoice's line title, a
first look at the event's status, which the event's own stream record sweeps again).
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from typing import Any

_memo: ContextVar[dict[Any, Any] | None] = ContextVar("boxoffice_batch_memo", default=None)


@contextmanager
def batch() -> Iterator[None]:
    token = _memo.set({})
    try:
        yield
    finally:
        _memo.reset(token)


def memo() -> dict[Any, Any] | None:
    """This batch's memo, or None outside a batch."""
    return _memo.get()
