"""The core's topics: which fact each one announces, its aggregate, and its ``data``.

Plugins add theirs with ``config.add_outbox_topic(event_type, topic, read_fact)``
(the gifting plugin adds ``gift.sent``).

A topic's ``data`` is its contract with receivers (docs/outbox.md lists every field);
fields are only ever added. Orders, their payments and their refunds share the order as
their aggregate, so a receiver sees ``order.paid`` before the ``refund.processed`` that
follows it, each with the next ``sequence`` of that order; a gift is its own aggregate.
"""

from __future__ import annotations

from typing import Any

from ..clock import isoformat, utcnow
from ..events import (
    OrderPaid,
    PaymentFailed,
    PaymentsEvent,
    RefundFailed,
    RefundProcessed,
)
from .interfaces import Fact

ORDER_PAID = "order.paid"
PAYMENT_FAILED = "payment.failed"
REFUND_PROCESSED = "refund.processed"
REFUND_FAILED = "refund.failed"


def order_data(order) -> dict[str, Any]:
    """What every order topic says about the order: enough for a host app to find its
    own object (``sourceApp`` + ``externalRef``, ``metadata``) or its user."""
    return {
        "orderId": order.id,
        "status": order.status,
        "amount": order.amount,
        "currency": order.currency,
        "sku": order.sku,
        "userId": order.user_id,
        "sourceApp": order.source_app,
        "externalRef": order.external_ref,
        "metadata": dict(order.metadata_ or {}),
        "razorpayOrderId": order.razorpay_order_id,
        "paidAt": isoformat(order.paid_at),
    }


def order_paid(event: OrderPaid) -> Fact:
    order = event.order
    return Fact(ORDER_PAID, "order", order.id, order.paid_at or utcnow(), order_data(order))


def payment_failed(event: PaymentFailed) -> Fact:
    order, payment = event.order, event.payment
    data = order_data(order)
    data["payment"] = {
        "razorpayPaymentId": payment.razorpay_payment_id if payment else None,
        "method": payment.method if payment else None,
        "amount": payment.amount if payment else None,
        "currency": payment.currency if payment else None,
        "errorCode": payment.error_code if payment else None,
        "errorDescription": payment.error_description if payment else None,
    }
    occurred = (payment.failed_at if payment else None) or utcnow()
    return Fact(PAYMENT_FAILED, "order", order.id, occurred, data)


def _refund_data(refund) -> dict[str, Any]:
    order = refund.order
    return {
        "refundId": refund.id,
        "orderId": refund.order_id,
        "status": refund.status,
        "amount": refund.amount,
        "currency": refund.currency,
        "razorpayPaymentId": refund.razorpay_payment_id,
        "razorpayRefundId": refund.razorpay_refund_id,
        "reason": refund.reason,
        "failureReason": refund.failure_reason,
        "userId": order.user_id,
        "sourceApp": order.source_app,
        "externalRef": order.external_ref,
        "metadata": dict(order.metadata_ or {}),
    }


def refund_processed(event: RefundProcessed) -> Fact:
    refund = event.refund
    return Fact(REFUND_PROCESSED, "order", refund.order_id, refund.processed_at or utcnow(),
                _refund_data(refund))


def refund_failed(event: RefundFailed) -> Fact:
    refund = event.refund
    return Fact(REFUND_FAILED, "order", refund.order_id, refund.failed_at or utcnow(),
                _refund_data(refund))


# event class -> (topic, how its fact reads)
CORE_TOPICS: dict[type[PaymentsEvent], tuple[str, Any]] = {
    OrderPaid: (ORDER_PAID, order_paid),
    PaymentFailed: (PAYMENT_FAILED, payment_failed),
    RefundProcessed: (REFUND_PROCESSED, refund_processed),
    RefundFailed: (REFUND_FAILED, refund_failed),
}
