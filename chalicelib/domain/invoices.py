"""Invoices: issued from orders by the billing stream handler, read by their payees."""

from __future__ import annotations

from typing import Any

from chalicelib.auth.permissions import Permission
from chalicelib.domain import users
from chalicelib.domain.auth import Caller
from chalicelib.domain.errors import NotFound
from chalicelib.store import events as event_store
from chalicelib.store import invoices as store
from chalicelib.store import keys
from chalicelib.store import users as user_store
from chalicelib.store.invoices import CREDIT_NOTE, INVOICE, Invoice
from chalicelib.store.orders import Order
from chalicelib.store.pagination import Page
from chalicelib.store.users import User


def _line_description(order: Order) -> str:
    try:
        event, sections = event_store.load(order.event_id)
    except NotFound:
        return f"Tickets, section {order.section}"
    name = next((s.name for s in sections if s.code == order.section), order.section)
    return f"{event.title}: {name} ({order.section})"


def _document(order: Order, kind: str, lines: list[dict[str, Any]], issued_at: str, **extra: Any) -> Invoice:
    """An unnumbered invoice or credit note of the order, its id derived from the order."""
    document_id = keys.invoice_id_for(order.order_id) if kind == INVOICE else keys.credit_note_id_for(order.order_id)
    return Invoice(
        invoice_id=document_id,
        kind=kind,
        number=0,
        order_id=order.order_id,
        event_id=order.event_id,
        organizer_id=order.organizer_id,
        payee=order.user_id,
        lines=lines,
        total_cents=sum(line["total_cents"] for line in lines),
        currency=order.currency,
        issued_at=issued_at,
        **extra,
    )


def issue_for(order: Order, issued_at: str) -> Invoice:
    """The order's invoice, numbered in its organizer's sequence; idempotent."""
    lines = [store.line(_line_description(order), int(order.quantity), int(order.unit_price_cents))]
    return store.issue(_document(order, INVOICE, lines, issued_at))


def credit_for(order: Order, issued_at: str) -> Invoice:
    """Void the order's invoice and issue the matching credit note; idempotent."""
    invoice = store.get(keys.invoice_id_for(order.order_id), consistent=True) or issue_for(order, issued_at)
    lines = [{**line, "total_cents": -line["total_cents"]} for line in invoice.lines]
    credit = _document(order, CREDIT_NOTE, lines, issued_at, credits_invoice_id=invoice.invoice_id)
    return store.void_and_credit(invoice, credit, issued_at)


def view(invoice: Invoice, payee: User | None) -> dict[str, Any]:
    """The invoice with its payee (``payee``: what a lookup of ``invoice.payee`` found; None shows
    a deleted user, since staff still read the invoices of deleted accounts)."""
    return {
        "id": invoice.invoice_id,
        "kind": invoice.kind,
        "number": int(invoice.number),
        "order_id": invoice.order_id,
        "event_id": invoice.event_id,
        "payee": invoice.payee,
        "payee_user": users.ref(invoice.payee, payee),
        "lines": invoice.lines,
        "total_cents": int(invoice.total_cents),
        "currency": invoice.currency,
        "issued_at": invoice.issued_at,
        "status": invoice.status,
        "voided_at": invoice.voided_at,
        "credits_invoice_id": invoice.credits_invoice_id,
    }


def view_for(caller: Caller, invoice: Invoice) -> dict[str, Any]:
    """The invoice as ``caller`` reads it: the payee is looked up only when that is someone else."""
    return view(invoice, caller.user if caller.id == invoice.payee else user_store.get(invoice.payee))


def _visible(caller: Caller, invoice: Invoice) -> bool:
    # The organizer issued it (the number is theirs): they read it too.
    return caller.id in (invoice.payee, invoice.organizer_id) or caller.can(Permission.VIEW_ALL)


def get(caller: Caller, invoice_id: str) -> Invoice:
    invoice = store.get(invoice_id)
    if invoice is None or not _visible(caller, invoice):
        raise NotFound("No such invoice.")
    return invoice


def for_order(caller: Caller, order_id: str) -> list[Invoice]:
    """The caller's documents for one order (empty until the stream handler has run)."""
    return [i for i in store.for_order(order_id) if i.payee == caller.id]


def list_mine(caller: Caller, limit: int, cursor: str | None) -> Page[Invoice]:
    return store.list_for_payee(caller.id, limit, cursor)
