"""JSON Schemas of what the order routes answer, for the OpenAPI document.

tests/orders/test_responses.py validates real answers against them, so the document
cannot drift from ``order_to_json``.
"""

from __future__ import annotations

_STRING = {"type": "string"}
_NULLABLE_STRING = {"type": "string", "nullable": True}
_INTEGER = {"type": "integer"}
_MONEY = {"type": "integer", "minimum": 0, "description": "minor units"}

PAYMENT = {
    "type": "object",
    "nullable": True,
    "required": ["razorpayPaymentId", "status", "method", "amount", "currency"],
    "properties": {
        "razorpayPaymentId": _STRING,
        "status": {"type": "string",
                   "enum": ["created", "authorized", "captured", "refunded", "failed"]},
        "method": _NULLABLE_STRING,
        "amount": _MONEY,
        "currency": _STRING,
        "errorCode": _NULLABLE_STRING,
        "errorDescription": _NULLABLE_STRING,
    },
}

CHECKOUT = {
    "type": "object",
    "description": "Razorpay Checkout's options, to hand to checkout.js as they are",
    "required": ["key", "amount", "currency", "order_id", "name", "description", "prefill"],
    "properties": {
        "key": _STRING, "amount": _MONEY, "currency": _STRING, "order_id": _STRING,
        "name": _STRING, "description": _STRING,
        "prefill": {"type": "object", "additionalProperties": _STRING},
        "notes": {"type": "object", "additionalProperties": _STRING},
    },
}

ORDER = {
    "type": "object",
    "required": ["id", "sku", "userId", "status", "isConfirmed", "amount", "currency",
                 "razorpayOrderId", "payment", "grants", "refundedAmount", "refundStatus",
                 "retryOf", "attemptCount", "createdAt", "paidAt"],
    "properties": {
        "id": _STRING,
        "sku": _NULLABLE_STRING,
        "userId": _NULLABLE_STRING,
        "title": _STRING,
        "status": {"type": "string",
                   "enum": ["created", "attempted", "verified", "paid", "expired"]},
        "isConfirmed": {"type": "boolean"},
        "amount": _MONEY,
        "currency": _STRING,
        "razorpayOrderId": _NULLABLE_STRING,
        "payment": PAYMENT,
        "grants": {"type": "object", "additionalProperties": _INTEGER},
        "entitlements": {"type": "array", "items": _STRING},
        "refundedAmount": _MONEY,
        "refundStatus": {"type": "string", "enum": ["none", "partial", "full"]},
        "retryOf": _NULLABLE_STRING,
        "attemptCount": {"type": "integer", "minimum": 1},
        "createdAt": {"type": "string", "format": "date-time"},
        "paidAt": {"type": "string", "format": "date-time", "nullable": True},
        "sourceApp": _STRING,
        "externalRef": _STRING,
        "metadata": {"type": "object"},
        "anomaly": {"type": "string", "nullable": True, "description": "admins only"},
        "checkout": CHECKOUT,
    },
}

ORDER_PAGE = {
    "type": "object",
    "required": ["items", "nextCursor"],
    "properties": {"items": {"type": "array", "items": ORDER}, "nextCursor": _NULLABLE_STRING},
}

# The errors of every route that answers an Order (the verify route's too).
ORDER_ERRORS = {400: "validation_failed", 401: "unauthenticated", 404: "not_found",
                502: "gateway_error"}

