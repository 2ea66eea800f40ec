"""The billing consumer: invoices for orders, credit notes for cancellations."""

from __future__ import annotations

from typing import Any

from chalicelib.domain import invoices, orders
from chalicelib.domain.ids import iso
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
    return process(event, REACTIONS, "billing")
