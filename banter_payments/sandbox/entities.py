"""Rows rendered as the JSON entities Razorpay's API and webhooks carry.

Field names, order and null-ness follow Razorpay's responses, including the quirk that an
empty ``notes`` comes back as an empty list rather than an object: the app must cope with
both, and the emulator should not hide that.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable
from typing import Any

from .models import SandboxCard, SandboxCustomer, SandboxOrder, SandboxPayment, SandboxRefund

# What ``expand[]`` may ask for on a payment; anything else is refused.
PAYMENT_EXPANSIONS = frozenset({"card", "emi", "offers"})


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


def payment_entity(payment: SandboxPayment, expand: Iterable[str] = ()) -> dict[str, Any]:
    """The payment; ``expand`` adds the nested entities Razorpay adds for ``expand[]``:
    ``card`` (null unless paid by card), ``emi`` (null: the sandbox has no EMI) and
    ``offers`` (a collection; the sandbox applies none)."""
    entity = {
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
        "customer_id": payment.customer_id,
        "token_id": None,
        "notes": _notes(payment.notes),
        "fee": payment.fee,
        "tax": payment.tax,
        "error_code": payment.error_code,
        "error_description": payment.error_description,
        "error_source": payment.error_source,
        "error_step": payment.error_step,
        "error_reason": payment.error_reason,
        "acquirer_data": dict(payment.acquirer_data or {}),
        "created_at": unix(payment.created_at),
    }
    if payment.method == "upi":
        entity["upi"] = {"payer_account_type": "bank_account", "vpa": payment.vpa,
                         "flow": "collect"}
    expand = set(expand)
    if "card" in expand:
        entity["card"] = card_entity(payment.card) if payment.card is not None else None
    if "emi" in expand:
        entity["emi"] = None
    if "offers" in expand:
        entity["offers"] = collection([])
    return entity


def card_entity(card: SandboxCard) -> dict[str, Any]:
    return {
        "id": card.id,
        "entity": "card",
        "name": card.name,
        "last4": card.last4,
        "network": card.network,
        "type": card.type,
        "issuer": card.issuer,
        "international": card.international,
        "emi": card.emi,
        "sub_type": "consumer",
        "token_iin": None,
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
        "created_at": unix(refund.created_at),
        "batch_id": None,
        "status": refund.status,
        "speed_processed": refund.speed_processed,
        "speed_requested": refund.speed_requested,
    }


def customer_entity(customer: SandboxCustomer) -> dict[str, Any]:
    return {
        "id": customer.id,
        "entity": "customer",
        "name": customer.name,
        "email": customer.email,
        "contact": customer.contact,
        "gstin": customer.gstin,
        "notes": _notes(customer.notes),
        "created_at": unix(customer.created_at),
    }


def collection(items: Iterable[dict[str, Any]]) -> dict[str, Any]:
    items = list(items)
    return {"entity": "collection", "count": len(items), "items": items}
