"""The payment port. The local provider approves at once; a real one plugs in behind it."""

from __future__ import annotations

import functools
import json
import os
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Protocol

from chalicelib.domain.ids import new_id


@dataclass(frozen=True)
class Payment:
    reference: str
    amount_cents: int
    currency: str


class PaymentProvider(Protocol):
    def charge(self, amount_cents: int, currency: str, order_id: str) -> Payment: ...

    def refund(self, payment: Payment, idempotency_key: str) -> None:
        """Refund the payment; the same key twice refunds once (providers take such keys)."""


class InstantApproval:
    """Approves every charge and refund immediately (local runs and tests); keeps a ledger
    of refunds by idempotency key, as a provider would. With ``ledger`` (``PAYMENT_LEDGER``)
    every charge and refund is also appended to that JSON-lines file, one line per call, so
    the provider's books can be audited across processes (the history checker reads them)."""

    def __init__(self, ledger: str | None = None) -> None:
        self.refunds: dict[str, Payment] = {}
        self.ledger = Path(ledger) if ledger else None

    def charge(self, amount_cents: int, currency: str, order_id: str) -> Payment:
        payment = Payment(f"local_{new_id()}", amount_cents, currency)
        self._record({"op": "charge", "order_id": order_id, **asdict(payment)})
        return payment

    def refund(self, payment: Payment, idempotency_key: str) -> None:
        self.refunds.setdefault(idempotency_key, payment)
        self._record({"op": "refund", "key": idempotency_key, **asdict(payment)})

    def _record(self, entry: dict[str, object]) -> None:
        if self.ledger is not None:
            # One write() on an O_APPEND file: lines from concurrent processes never interleave.
            with self.ledger.open("a") as f:
                f.write(json.dumps(entry) + "\n")


@functools.lru_cache(maxsize=1)
def provider() -> PaymentProvider:
    name = os.environ.get("PAYMENT_PROVIDER", "local")
    if name == "local":
        return InstantApproval(os.environ.get("PAYMENT_LEDGER") or None)
    raise RuntimeError(f"unknown PAYMENT_PROVIDER {name!r}")
