"""Idempotency records: the first response to an ``Idempotency-Key``, kept 24 hours.

A record is written in the same transaction as what it protects, so a retry
either finds it (and replays the response) or the transaction that would
double-spend fails on the record's ``attribute_not_exists`` condition.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from pynamodb.attributes import NumberAttribute, UnicodeAttribute

from chalicelib.store import keys
from chalicelib.store.table import Item, find


class IdempotencyRecord(Item, discriminator="idempotency"):
    request_hash = UnicodeAttribute()
    status_code = NumberAttribute()
    response = UnicodeAttribute()


@dataclass(frozen=True)
class Replay:
    status_code: int
    body: Any


def request_hash(method: str, path: str, body: Any) -> str:
    canonical = json.dumps(body, sort_keys=True, separators=(",", ":"), default=str)
    return hashlib.sha256(f"{method} {path}\n{canonical}".encode()).hexdigest()


def client_token(user_id: str, key: str, attempt_id: str) -> str:
    """The transaction's ClientRequestToken (at most 36 characters), derived from the key.

    It includes this attempt's order id: botocore's own retries of the same call
    are then idempotent, while a later request with the same key (whose order id
    differs) never meets IdempotentParameterMismatch; it is stopped by the
    record's condition instead, and replays.
    """
    return hashlib.sha256(f"{user_id}\n{key}\n{attempt_id}".encode()).hexdigest()[:36]


def record(
    user_id: str, key: str, req_hash: str, status_code: int, body: Any, expires_at: datetime
) -> IdempotencyRecord:
    pk, sk = keys.idempotency(user_id, key)
    return IdempotencyRecord(
        pk, sk, request_hash=req_hash, status_code=status_code, response=json.dumps(body), ttl=expires_at
    )


def as_replay(item: IdempotencyRecord) -> Replay:
    return Replay(int(item.status_code), json.loads(item.response))


def get(user_id: str, key: str, now: datetime) -> IdempotencyRecord | None:
    item = find(IdempotencyRecord, keys.idempotency(user_id, key))
    return item if item is not None and live(item, now) else None


def absent_or_expired(now: datetime) -> Any:
    """Condition for writing a record: none yet, or only one whose 24 hours are over."""
    return IdempotencyRecord.pk.does_not_exist() | (IdempotencyRecord.ttl < now)


def live(item: IdempotencyRecord, now: datetime) -> bool:
    # TTL deletes "within a few days": an expired record is ignored, not trusted.
    return item.ttl is None or item.ttl > now
