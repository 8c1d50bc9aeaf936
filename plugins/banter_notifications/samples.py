"""Sample mails of every kind, for ``banter-notifications preview`` and the tests: what
a real fact of that kind would queue, with made-up ids."""

from __future__ import annotations

from typing import Any

from . import kinds as k
from .reasons import explain

_ORDER = {"orderId": "ord_01JSAMPLE0000000000000000", "title": "Popular Pack",
          "sku": "coins.popular", "amount": 450000, "currency": "INR",
          "occurredAt": "2026-12-01T10:00:00+00:00"}
_SUBSCRIPTION = {"subscriptionId": "sub_SAMPLE0000001", "plan": "Premium Monthly",
                 "status": "active", "amount": 19900, "currency": "INR",
                 "razorpayPaymentId": "pay_SAMPLE0000002", "currentEnd": None,
                 "occurredAt": "2026-12-01T10:00:00+00:00"}
_FAILED = explain("BAD_REQUEST_ERROR", "Payment failed due to insufficient funds")

CONTEXTS: dict[str, dict[str, Any]] = {
    k.PURCHASE_SUCCEEDED: {**_ORDER, "grants": [{"asset": "coins", "quantity": 6000}],
                           "entitlements": [], "razorpayPaymentId": "pay_SAMPLE0000001",
                           "method": "upi"},
    k.PAYMENT_FAILED: {**_ORDER, "grants": [], "entitlements": [],
                       "razorpayPaymentId": "pay_SAMPLE0000003", "method": "card",
                       "errorCode": "BAD_REQUEST_ERROR",
                       "errorDescription": "Payment failed due to insufficient funds",
                       "reason": _FAILED.reason, "advice": _FAILED.advice},
    k.REFUND_PROCESSED: {**_ORDER, "refundId": "rfd_01JSAMPLE0000000000000000",
                         "razorpayRefundId": "rfnd_SAMPLE0000001",
                         "razorpayPaymentId": "pay_SAMPLE0000001", "orderAmount": 450000,
                         "reason": "Bought twice by mistake",
                         "clawedBack": [{"asset": "coins", "quantity": 5000}],
                         "shortfall": [{"asset": "coins", "quantity": 1000}]},
    k.GIFT_RECEIVED: {"giftId": "gft_01JSAMPLE0000000000000000", "from": "alice",
                      "fromName": "Alice", "coins": 150, "note": "Good game!",
                      "occurredAt": "2026-12-01T10:00:00+00:00"},
    k.SUBSCRIPTION_ACTIVATED: dict(_SUBSCRIPTION),
    k.SUBSCRIPTION_CHARGED: dict(_SUBSCRIPTION),
    k.SUBSCRIPTION_PAYMENT_FAILED: {**_SUBSCRIPTION, "reason": _FAILED.reason,
                                    "advice": _FAILED.advice},
    k.SUBSCRIPTION_HALTED: {**_SUBSCRIPTION, "status": "halted", "amount": None},
    k.SUBSCRIPTION_CANCELLED: {**_SUBSCRIPTION, "status": "cancelled", "amount": None},
}


def sample(kind: str, locale: str = "en_IN") -> dict[str, Any]:
    """The ``data`` of a queued mail of ``kind`` (as ``services.record_notice`` writes)."""
    return {"kind": kind, "notificationId": f"preview-{kind}", "userId": "sample-user",
            "to": {"email": "reader@example.com", "name": "Sam Reader"}, "locale": locale,
            "title": kind.replace("_", " ").capitalize(), "context": dict(CONTEXTS[kind])}
