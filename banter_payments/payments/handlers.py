"""The core's webhook handlers: every payment-bearing event feeds the one state machine.

They are registered with ``config.add_webhook_handler`` exactly as a plugin's would be.
Each takes the payment entity the signed event carries and hands it to the
``IPaymentService``'s ``apply_gateway_payment``; which event it came in does not matter,
because the entity's own status says what happened (``order.paid`` carries the captured payment, a
``refund.*`` event the payment as the refund left it). Events may arrive in any order,
more than once, or not at all; the state machine moves forward only, so each one either
moves something forward or changes nothing.

What refunds themselves mean for the wallet (a refund row, a clawback) is the refund
feature's business: it registers its own handlers for ``refund.*`` next to these.
"""

from __future__ import annotations

from typing import Any

from pyramid.request import Request

from ..webhooks.registry import IgnoreEvent, RejectEvent
from .interfaces import IPaymentService
from .services import MalformedPaymentEntity, PaymentMismatch, PaymentReport

PAYMENT_EVENTS = (
    "payment.authorized",
    "payment.captured",
    "payment.failed",
    "order.paid",
    "refund.created",
    "refund.processed",
    "refund.failed",
)


def entity(event: dict[str, Any], name: str) -> dict[str, Any] | None:
    """``event["payload"][name]["entity"]`` when it is there and an object."""
    part = event["payload"].get(name)
    found = part.get("entity") if isinstance(part, dict) else None
    return found if isinstance(found, dict) else None


def apply_payment_event(request: Request, event: dict[str, Any], delivery: Any) -> None:
    """Apply the payment entity of a ``payment.*``, ``order.paid`` or ``refund.*`` event."""
    payment = entity(event, "payment")
    if payment is None:
        raise RejectEvent(f"{event['event']} carries no payment entity.",
                          {"payload.payment": "is required"})
    try:
        razorpay_order_id = PaymentReport.from_entity(payment).razorpay_order_id
    except MalformedPaymentEntity as exc:
        raise RejectEvent(exc.message, exc.details) from None
    if razorpay_order_id is None:
        raise IgnoreEvent("the payment belongs to no order")
    order_entity = entity(event, "order")
    if order_entity is not None and order_entity.get("id") != razorpay_order_id:
        raise RejectEvent("The event's order and payment entities disagree.",
                          {"payload.order.id": "must be the payment's order_id"})
    payments = request.find_service(IPaymentService)
    order = payments.find_order(razorpay_order_id)
    if order is None:
        raise IgnoreEvent(f"no order {razorpay_order_id} here")
    try:
        payments.apply_gateway_payment(order, payment, source="webhook")
    except PaymentMismatch as exc:
        raise RejectEvent(f"The payment does not match order {order.id}.",
                          exc.details) from None
    except MalformedPaymentEntity as exc:
        raise RejectEvent(exc.message, exc.details) from None


def includeme(config) -> None:
    for event_name in PAYMENT_EVENTS:
        config.add_webhook_handler(event_name, apply_payment_event)
