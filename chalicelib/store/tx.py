"""Transactions with named operations, conflict retries and readable failures.

DynamoDB reports a cancelled transaction as one reason per item, in the order
the items were sent; PynamoDB sends condition checks, then deletes, puts and
updates. :class:`Tx` remembers a tag per operation in that same order, so a
failed condition comes back as the tag that failed (``"section"``,
``"idempotency"``...) with the item as it was, and the store can tell
"sold out" from "already exists" without guessing.
"""

from __future__ import annotations

import logging
import random
import time
import uuid
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

from pynamodb.exceptions import TransactWriteError
from pynamodb.expressions.condition import Condition
from pynamodb.expressions.update import Action
from pynamodb.models import Model
from pynamodb.transactions import TransactWrite

from chalicelib.domain.errors import Busy
from chalicelib.store.table import Item

log = logging.getLogger("boxoffice.store")
_KIND_ORDER = {"check": 0, "delete": 1, "put": 2, "update": 3}
# Worth another try with the same token: conflicts, throttling, and "outcome unknown" server errors
# (the token makes a repeat of a transaction that did commit a no-op).
_RETRYABLE = {
    "InternalServerError",
    "ServiceUnavailable",
    "TransactionConflict",
    "TransactionConflictException",
    "TransactionInProgressException",
    "ThrottlingError",
    "ThrottlingException",
    "ProvisionedThroughputExceeded",
    "ProvisionedThroughputExceededException",
    "RequestLimitExceeded",
}
ATTEMPTS = 8


class ConditionFailed(Exception):
    """Named conditions of a transaction failed; ``old`` holds each item as it was."""

    def __init__(self, failed: dict[str, dict[str, Any] | None]) -> None:
        super().__init__(", ".join(failed))
        self.failed = failed

    def __contains__(self, tag: str) -> bool:
        return tag in self.failed

    def old_string(self, tag: str, attribute: str) -> str | None:
        value = (self.failed.get(tag) or {}).get(attribute, {}).get("S")
        return str(value) if value is not None else None

    def old_number(self, tag: str, attribute: str) -> int | None:
        raw = self.failed.get(tag) or {}
        value = raw.get(attribute, {}).get("N")
        return int(value) if value is not None else None


class TokenReused(Exception):
    """The ClientRequestToken was used with different parameters (a concurrent retry)."""


@dataclass
class _Op:
    kind: str
    tag: str
    apply: Callable[[TransactWrite], None]
    fresh: bool = False


@dataclass
class Tx:
    ops: list[_Op] = field(default_factory=list)

    def check(self, tag: str, model_cls: type[Model], key: tuple[str, str], condition: Condition) -> Tx:
        self.ops.append(_Op("check", tag, lambda t: t.condition_check(model_cls, key[0], key[1], condition=condition)))
        return self

    def put(self, tag: str, model: Model, condition: Condition | None = None, fresh: bool = False) -> Tx:
        """``fresh``: the item's key was made new for this write (e.g. a new order id), so if its
        ``attribute_not_exists`` condition fails, this very transaction has already committed."""
        self.ops.append(_Op("put", tag, lambda t: t.save(model, condition=condition, return_values="ALL_OLD"), fresh))
        return self

    def update(self, tag: str, model: Model, actions: Sequence[Action], condition: Condition | None = None) -> Tx:
        self.ops.append(
            _Op("update", tag, lambda t: t.update(model, list(actions), condition=condition, return_values="ALL_OLD"))
        )
        return self

    def delete(self, tag: str, model: Model, condition: Condition | None = None) -> Tx:
        self.ops.append(_Op("delete", tag, lambda t: t.delete(model, condition=condition)))
        return self

    def commit(self, token: str | None = None, attempts: int = ATTEMPTS) -> None:
        """Write all operations atomically; retry conflicts with jittered backoff.

        Every attempt carries one ClientRequestToken (``token``, or a new one per
        commit), so a retry after a lost answer, botocore's or ours, is a no-op.
        A failed condition on a ``fresh`` item means an earlier attempt committed:
        that is success. Raises :class:`ConditionFailed` (named),
        :class:`TokenReused`, or :class:`Busy` when conflicts outlast the retries.
        """
        ordered = sorted(self.ops, key=lambda op: _KIND_ORDER[op.kind])
        token = token or uuid.uuid4().hex
        for attempt in range(attempts):
            try:
                with TransactWrite(connection=Item._get_connection().connection, client_request_token=token) as t:
                    for op in ordered:
                        op.apply(t)
                return
            except TransactWriteError as e:
                code = e.cause_response_code or ""
                reasons = e.cancellation_reasons or []
                if code == "IdempotentParameterMismatchException":
                    raise TokenReused() from e
                refused = [
                    (op, reason)
                    for op, reason in zip(ordered, reasons, strict=False)
                    if reason is not None and reason.code == "ConditionalCheckFailed"
                ]
                failed = {op.tag: reason.raw_item for op, reason in refused}
                if any(op.fresh for op, _ in refused):
                    log.info("transaction %s was already written (a retry after a lost answer)", token)
                    return
                if failed:
                    raise ConditionFailed(failed) from e
                retryable = code in _RETRYABLE or any(r is not None and r.code in _RETRYABLE for r in reasons)
                if not retryable:
                    raise
                backoff(attempt)
        raise Busy("The item is busy; please retry.", retry_after=1)


def backoff(attempt: int, cap: float = 0.5) -> None:
    """Full jitter (AWS architecture blog): sleep uniform(0, min(cap, base * 2^n))."""
    time.sleep(random.uniform(0, min(cap, 0.01 * 2**attempt)))
