"""The payment port. The local provider approves at once; a real one plugs in behind it."""

from __future__ import annotations

import functools
import os
from dataclasses import dataclass
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
    of refunds by idempotency key, as a provider would."""

    def __init__(self) -> None:
        self.refunds: dict[str, Payment] = {}

    def charge(self, amount_cents: int, currency: str, order_id: str) -> Payment:
        return Payment(f"local_{new_id()}", amount_cents, currency)

    def refund(self, payment: Payment, idempotency_key: str) -> None:
        self.refunds.setdefault(idempotency_key, payment)


@functools.lru_cache(maxsize=1)
def provider() -> PaymentProvider:
    name = os.environ.get("PAYMENT_PROVIDER", "local")
    if name == "local":
        return InstantApproval()
    raise RuntimeError(f"unknown PAYMENT_PROVIDER {name!r}")
