"""The billing consumer: invoices for orders, credit notes for cancellations."""

from __future__ import annotations

from typing import Any

from chalicelib.domain import invoices, orders
from chalicelib.domain.ids import iso
from chalicelib.store import invoices as invoice_store
from chalicelib.store import keys
from chalicelib.store.batch import batch
from chalicelib.store.events import CANCELLED as EVENT_CANCELLED
from chalicelib.store.events import Event
from chalicelib.store.orders import CANCELLED, CONFIRMED, Order
from chalicelib.streams.processor import Reactions, process, status_changed
from chalicelib.streams.records import Change


def invoice_new_order(change: Change) -> None:
    order = change.new
    if isinstance(order, Order) and order.status == CONFIRMED:
        invoices.issue_for(order, iso(change.at))


def refund_orders_of_cancelled_events(change: Change) -> None:
    order = change.new
    if isinstance(order, Order):
        orders.refund_if_event_cancelled(order)


def credit_cancelled_order(change: Change) -> None:
    order = change.new
    if isinstance(order, Order) and status_changed(change, CANCELLED):
        invoices.credit_for(order, iso(change.at))
        orders.pay_back(order, iso(change.at))


def refund_orders_of_a_cancelled_event(change: Change) -> None:
    # A second sweep, after the API's: the event's order index has caught up by now.
    event = change.new
    if isinstance(event, Event) and status_changed(change, EVENT_CANCELLED):
        orders.refund_all(event.event_id)


REACTIONS: Reactions = {
    ("order", "INSERT"): [invoice_new_order, refund_orders_of_cancelled_events],
    ("order", "MODIFY"): [credit_cancelled_order],
    ("event", "MODIFY"): [refund_orders_of_a_cancelled_event],
}


def handle(event: dict[str, Any]) -> dict[str, Any]:
    with batch():  # events, invoice counters and the batch's invoices read once per batch, not per record
        invoice_store.prefetch([keys.invoice_id_for(order_id) for order_id in _new_orders(event)])
        return process(event, REACTIONS, "billing")


def _new_orders(event: dict[str, Any]) -> list[str]:
    """The order ids of the batch's order INSERT records (as written: a malformed record is left to
    the processor, which reports it)."""
    out = []
    for record in event.get("Records", []):
        image = (record.get("dynamodb") or {}).get("NewImage") or {}
        if record.get("eventName") == "INSERT" and image.get("type", {}).get("S") == "order":
            order_id = image.get("order_id", {}).get("S")
            if isinstance(order_id, str):
                out.append(order_id)
    return out
