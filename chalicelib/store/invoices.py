"""Invoices and credit notes, numbered per organizer without gaps.

A number is taken by putting the organizer's counter with a condition on its
previous value, in the same transaction as the invoice's put with
``attribute_not_exists``. The invoice's id comes from the order, so a replayed
stream record finds the invoice already there and takes no number: the
sequence has no gaps and no duplicates whatever Lambda redelivers.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from pynamodb.attributes import JSONAttribute, NumberAttribute, UnicodeAttribute

from chalicelib.store import batch, keys
from chalicelib.store.pagination import Page, decode_cursor, page
from chalicelib.store.table import Item, find
from chalicelib.store.tx import ConditionFailed, Tx

INVOICE = "invoice"
CREDIT_NOTE = "credit_note"
ISSUED = "issued"
VOID = "void"
ATTEMPTS = 20


class Invoice(Item, discriminator="invoice"):
    invoice_id = UnicodeAttribute()
    kind = UnicodeAttribute(default=INVOICE)
    number = NumberAttribute()
    order_id = UnicodeAttribute()
    event_id = UnicodeAttribute()
    organizer_id = UnicodeAttribute()
    payee = UnicodeAttribute()
    lines = JSONAttribute()
    total_cents = NumberAttribute()
    currency = UnicodeAttribute()
    issued_at = UnicodeAttribute()
    status = UnicodeAttribute(default=ISSUED)
    voided_at = UnicodeAttribute(null=True)
    credits_invoice_id = UnicodeAttribute(null=True)

    def set_keys(self) -> Invoice:
        self.pk, self.sk = keys.invoice(self.invoice_id)
        self.gsi1pk = keys.invoices_by_user(self.payee)
        self.gsi1sk = keys.created_sort(self.issued_at, self.invoice_id)
        self.gsi2pk = keys.invoices_by_organizer(self.organizer_id)
        self.gsi2sk = keys.invoice_number_sort(self.kind, int(self.number))
        return self


class Counter(Item, discriminator="counter"):
    value = NumberAttribute(default=0)


def get(invoice_id: str, consistent: bool = False) -> Invoice | None:
    return find(Invoice, keys.invoice(invoice_id), consistent)


def _counter_value(key: tuple[str, str]) -> int:
    item = find(Counter, key)
    return int(item.value) if item is not None else 0


def _take_number(tx: Tx, key: tuple[str, str], current: int) -> int:
    counter = Counter(key[0], key[1], value=current + 1)
    condition = Counter.pk.does_not_exist() if current == 0 else Counter.value == current
    tx.put("counter", counter, condition)
    return current + 1


def issue(invoice: Invoice) -> Invoice:
    """Give the invoice the organizer's next number and store it; once per invoice id."""
    return _numbered(invoice, lambda tx: None)


def void_and_credit(invoice: Invoice, credit: Invoice, voided_at: str) -> Invoice:
    """Void the invoice and issue its credit note, in one transaction; once per invoice."""

    def void(tx: Tx) -> None:
        actions = [Invoice.status.set(VOID), Invoice.voided_at.set(voided_at)]
        tx.update("invoice", invoice, actions, Invoice.status == ISSUED)

    return _numbered(credit, void)


def _numbered(document: Invoice, also: Callable[[Tx], None]) -> Invoice:
    """Store ``document`` with its kind's next number, plus ``also``'s writes, atomically.

    If the document exists already (a replayed record) nothing is written; a
    lost race for the number (or the document) reads again and retries.
    """
    key = keys.invoice_counter(document.organizer_id, document.kind)
    memo = batch.memo()
    counters: dict[Any, int] = memo.setdefault("invoice_counters", {}) if memo is not None else {}
    known: dict[str, Invoice | None] = memo.setdefault("invoices", {}) if memo is not None else {}
    for _ in range(ATTEMPTS):
        # Already there (a replayed record)? Known for the batch's orders from one BatchGetItem
        # (``prefetch``), else read. The counter is read once per batch and organizer: after our own
        # commit we know its value, and its condition catches anyone else's number in between.
        existing = known.pop(document.invoice_id) if document.invoice_id in known else get(document.invoice_id, True)
        if existing is not None:
            known[document.invoice_id] = existing
            return existing
        current = counters.pop(key, None)
        tx = Tx()
        document.number = _take_number(tx, key, current if current is not None else _counter_value(key))
        tx.put("document", document.set_keys(), Invoice.pk.does_not_exist())
        also(tx)
        try:
            tx.commit()
        except ConditionFailed:
            continue
        counters[key] = int(document.number)
        known[document.invoice_id] = document
        return document
    raise RuntimeError(f"could not number {document.invoice_id}: too much contention")


def prefetch(invoice_ids: list[str]) -> None:
    """In a stream batch: which of these documents exist, in one BatchGetItem (consistent), so that
    issuing each does not read it again."""
    memo = batch.memo()
    if memo is None or not invoice_ids:
        return
    known: dict[str, Invoice | None] = memo.setdefault("invoices", {})
    wanted = list(dict.fromkeys(i for i in invoice_ids if i not in known))
    for start in range(0, len(wanted), 100):
        chunk = wanted[start : start + 100]
        found = {
            str(item.invoice_id): item
            for item in Item.batch_get([keys.invoice(i) for i in chunk], consistent_read=True)
            if isinstance(item, Invoice)
        }
        for invoice_id in chunk:
            known[invoice_id] = found.get(invoice_id)


def list_for_payee(user_id: str, limit: int, cursor: str | None) -> Page[Invoice]:
    scope = keys.invoices_by_user(user_id)
    start = decode_cursor(cursor, scope)
    results = Item.gsi1.query(scope, scan_index_forward=False, limit=limit, last_evaluated_key=start)
    return page(results, limit, Invoice, scope)


def for_order(order_id: str) -> list[Invoice]:
    """The order's invoice and credit note, if they exist yet: one BatchGetItem."""
    wanted = [keys.invoice(keys.invoice_id_for(order_id)), keys.invoice(keys.credit_note_id_for(order_id))]
    found = [item for item in Item.batch_get(wanted) if isinstance(item, Invoice)]
    return sorted(found, key=lambda i: i.invoice_id)


def numbers(organizer_id: str, kind: str) -> list[int]:
    """Every number issued to the organizer's documents of one kind, in order (audits, tests)."""
    results = Item.gsi2.query(keys.invoices_by_organizer(organizer_id), Item.gsi2sk.startswith(f"{kind}#"))
    return [int(i.number) for i in results if isinstance(i, Invoice)]


def line(description: str, quantity: int, unit_price_cents: int) -> dict[str, Any]:
    return {
        "description": description,
        "quantity": quantity,
        "unit_price_cents": unit_price_cents,
        "total_cents": quantity * unit_price_cents,
    }
