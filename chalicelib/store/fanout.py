"""Fan-out steps: work that grows with the audience (every follower of an event, every friend of
an author) split into bounded items. Step n does one page and writes step n+1; each is one stream
record, so no record does unbounded work and a redelivered step redoes only its own page."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

from pynamodb.attributes import JSONAttribute, NumberAttribute, UnicodeAttribute
from pynamodb.exceptions import PutError

from chalicelib.store import keys
from chalicelib.store.table import Item

KEEP = timedelta(days=7)  # steps are only work: TTL cleans them up


class FanoutStep(Item, discriminator="fanout_step"):
    job_id = UnicodeAttribute()
    n = NumberAttribute()
    kind = UnicodeAttribute()  # which handler runs it
    params = JSONAttribute(default=dict)
    phase = UnicodeAttribute()  # e.g. "holders", then "followers"
    cursor = UnicodeAttribute(null=True)
    started_at = UnicodeAttribute()  # the job's time: what the notifications it makes sort by

    def set_keys(self) -> FanoutStep:
        self.pk, self.sk = keys.fanout_step(self.job_id, int(self.n))
        return self


def put_step(step: FanoutStep, now: datetime) -> bool:
    """Write a step unless it exists (a redelivered record writes the same step again). True if new."""
    step.set_keys()
    step.ttl = now + KEEP
    try:
        step.save(FanoutStep.pk.does_not_exist())
        return True
    except PutError as e:
        if e.cause_response_code == "ConditionalCheckFailedException":
            return False
        raise


def new_step(
    job_id: str, n: int, kind: str, params: dict[str, Any], phase: str, cursor: str | None, at: str
) -> FanoutStep:
    return FanoutStep(job_id=job_id, n=n, kind=kind, params=params, phase=phase, cursor=cursor, started_at=at)
