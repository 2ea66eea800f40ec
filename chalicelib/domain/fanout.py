"""Fan-out in bounded steps, run by the activity consumer.

A job starts from a stream record (an event changed, a post was written): ``start`` writes step 0.
The activity consumer meets each step's INSERT and calls the job kind's handler, which does one
page (at most ``FANOUT_PAGE`` recipients) and says where the next page starts; ``run`` writes
that as the next step. An event with 50,000 followers is 500 small records, not one 300-second
invocation. Whatever a step makes must be idempotent per job (ids derived from the job and the
recipient), because a step may be delivered twice and a recipient may be met in two phases.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from chalicelib.domain.ids import derived_id, iso, parse_iso, utcnow
from chalicelib.settings import get_settings
from chalicelib.store import fanout as store
from chalicelib.store.fanout import FanoutStep
from chalicelib.streams.records import Change


@dataclass(frozen=True)
class Next:
    """Where the next page starts: the same or a new phase, and the cursor in it (None: its start)."""

    phase: str
    cursor: str | None


Handler = Callable[[Change, FanoutStep, int], Next | None]  # (record, step, page size) → next page, or None: done
HANDLERS: dict[str, Handler] = {}


def handler(kind: str) -> Callable[[Handler], Handler]:
    def register(fn: Handler) -> Handler:
        HANDLERS[kind] = fn
        return fn

    return register


def start(change: Change, kind: str, params: dict[str, Any], phase: str) -> str:
    """Start a job for this change (the same job on every redelivery); returns its id."""
    job_id = change.derived_id(f"fanout|{kind}")
    store.put_step(store.new_step(job_id, 0, kind, params, phase, None, iso(change.at)), utcnow())
    return job_id


def recipient_id(step: FanoutStep, purpose: str) -> str:
    """An id for what a job makes for one recipient: the same from any step or phase that meets them."""
    return derived_id(f"{step.job_id}|{purpose}", parse_iso(step.started_at))


def run(change: Change) -> None:
    step = change.new
    if not isinstance(step, FanoutStep):
        return
    nxt = HANDLERS[step.kind](change, step, get_settings().fanout_page)
    if nxt is not None:
        store.put_step(
            store.new_step(
                step.job_id, int(step.n) + 1, step.kind, step.params, nxt.phase, nxt.cursor, step.started_at
            ),
            utcnow(),
        )


REACTIONS = {("fanout_step", "INSERT"): [run]}
