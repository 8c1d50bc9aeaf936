"""Rows rendered as the JSON entities Razorpay's API and webhooks carry.

Field names, order and null-ness follow Razorpay's responses, including the quirk that an
empty ``notes`` comes back as an empty list rather than an object: the app must cope with
both, and the emulator should not hide that.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable
from typing import Any

from .models import SandboxOrder, SandboxPayment, SandboxRefund


def unix(value: dt.datetime) -> int:
    return int(value.timestamp())


def _notes(value: dict | None) -> dict | list:
    return dict(value) if value else []


def order_entity(order: SandboxOrder) -> dict[str, Any]:
    return {
        "id": order.id,
        "entity": "order",
        "amount": order.amount,
        "amount_paid": order.amount_paid,
        "amount_due": order.amount - order.amount_paid,
        "currency": order.currency,
        "receipt": order.receipt,
        "offer_id": None,
        "status": order.status,
        "attempts": order.attempts,
        "notes": _notes(order.notes),
        "created_at": unix(order.created_at),
    }


def payment_entity(payment: SandboxPayment) -> dict[str, Any]:
    return {
        "id": payment.id,
        "entity": "payment",
        "amount": payment.amount,
        "currency": payment.currency,
        "status": payment.status,
        "order_id": payment.order_id,
        "invoice_id": None,
        "international": False,
        "method": payment.method,
        "amount_refunded": payment.amount_refunded,
        "refund_status": payment.refund_status,
        "captured": payment.captured,
        "description": payment.description,
        "card_id": payment.card_id,
        "bank": payment.bank,
        "wallet": payment.wallet,
        "vpa": payment.vpa,
        "email": payment.email,
        "contact": payment.contact,
        "notes": _notes(payment.notes),
        "fee": payment.fee,
        "tax": payment.tax,
        "error_code": payment.error_code,
        "error_description": payment.error_description,
        "error_source": payment.error_source,
        "error_step": payment.error_step,
        "error_reason": payment.error_reason,
        "created_at": unix(payment.created_at),
    }


def refund_entity(refund: SandboxRefund) -> dict[str, Any]:
    return {
        "id": refund.id,
        "entity": "refund",
        "amount": refund.amount,
        "currency": refund.currency,
        "payment_id": refund.payment_id,
        "notes": _notes(refund.notes),
        "receipt": refund.receipt,
        "acquirer_data": {"arn": refund.arn},
        "status": refund.status,
        "speed_requested": refund.speed_requested,
        "speed_processed": refund.speed_processed,
        "created_at": unix(refund.created_at),
    }


def collection(items: Iterable[dict[str, Any]]) -> dict[str, Any]:
    items = list(items)
    return {"entity": "collection", "count": len(items), "items": items}
