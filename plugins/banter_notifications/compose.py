"""From a fact to what is said about it: who hears of it, the inbox line, the mail's
fields.

Each kind reads the outbox's ``Fact`` of the event (its ``data`` is a published
contract) and, where a mail needs more (the payment id, what was granted, what a refund
took back), the event's objects by attribute: a plugin does not import the core's
models, only reads what the event carries. The result is plain JSON, so the mail can be
rendered later by a worker, with no database at hand.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from banter_payments.outbox.interfaces import Fact

from . import kinds as k
from .money import format_money, format_quantity
from .reasons import explain


@dataclass
class Notice:
    """One notification for one user (or, for a service order, one address)."""

    kind: str
    user_id: str | None
    reference: str
    title: str
    context: dict[str, Any]
    # What the fact itself says about the reader, used when the directory knows nothing.
    fallback_email: str | None = None
    fallback_name: str | None = None
    extra: dict[str, Any] = field(default_factory=dict)


def _attr(obj: Any, name: str, default: Any = None) -> Any:
    return getattr(obj, name, default) if obj is not None else default


def _grants(grants: dict[str, Any] | None) -> list[dict[str, Any]]:
    return [{"asset": asset, "quantity": int(quantity)}
            for asset, quantity in sorted((grants or {}).items())
            if isinstance(quantity, int) and quantity]


def _customer(order: Any) -> tuple[str | None, str | None]:
    customer = _attr(order, "customer") or {}
    if not isinstance(customer, dict):
        return None, None
    return customer.get("email") or None, customer.get("name") or None


def _order_context(fact: Fact, order: Any) -> dict[str, Any]:
    data = fact.data
    return {
        "orderId": data.get("orderId"),
        "title": _attr(order, "title") or data.get("sku") or "your order",
        "sku": data.get("sku"),
        "amount": data.get("amount"),
        "currency": data.get("currency"),
        "grants": _grants(_attr(order, "grants")),
        "entitlements": list(_attr(order, "entitlements") or []),
        "occurredAt": fact.occurred_at.isoformat(),
    }


def purchase_succeeded(fact: Fact, event: Any) -> Notice:
    order = _attr(event, "order")
    context = _order_context(fact, order)
    payment = _attr(order, "latest_payment")
    context.update({
        "razorpayPaymentId": _attr(payment, "razorpay_payment_id"),
        "method": _attr(payment, "method"),
    })
    email, name = _customer(order)
    return Notice(k.PURCHASE_SUCCEEDED, fact.data.get("userId"),
                  f"order:{context['orderId']}", "Payment received", context, email, name)


def payment_failed(fact: Fact, event: Any) -> Notice:
    order = _attr(event, "order")
    context = _order_context(fact, order)
    payment = fact.data.get("payment") or {}
    explanation = explain(payment.get("errorCode"), payment.get("errorDescription"))
    context.update({
        "razorpayPaymentId": payment.get("razorpayPaymentId"),
        "method": payment.get("method"),
        "errorCode": payment.get("errorCode"),
        "errorDescription": payment.get("errorDescription"),
        "reason": explanation.reason,
        "advice": explanation.advice,
    })
    email, name = _customer(order)
    return Notice(k.PAYMENT_FAILED, fact.data.get("userId"),
                  f"order:{context['orderId']}", "Payment failed", context, email, name)


def refund_processed(fact: Fact, event: Any) -> Notice:
    refund = _attr(event, "refund")
    order = _attr(refund, "order")
    data = fact.data
    shortfall = _grants(_attr(refund, "shortfall"))
    context = {
        "orderId": data.get("orderId"),
        "refundId": data.get("refundId"),
        "razorpayRefundId": data.get("razorpayRefundId"),
        "razorpayPaymentId": data.get("razorpayPaymentId"),
        "title": _attr(order, "title") or "your order",
        "amount": data.get("amount"),
        "currency": data.get("currency"),
        "orderAmount": _attr(order, "amount"),
        "reason": data.get("reason") or "",
        "clawedBack": _grants(_attr(refund, "clawed_back")),
        "shortfall": shortfall,
        "occurredAt": fact.occurred_at.isoformat(),
    }
    email, name = _customer(order)
    return Notice(k.REFUND_PROCESSED, data.get("userId"), f"order:{context['orderId']}",
                  "Refund processed", context, email, name)


def gift_received(fact: Fact, event: Any) -> Notice:
    data = fact.data
    context = {
        "giftId": data.get("giftId"),
        "from": data.get("from"),
        "fromName": data.get("from"),
        "coins": data.get("coins"),
        "note": data.get("note"),
        "occurredAt": fact.occurred_at.isoformat(),
    }
    return Notice(k.GIFT_RECEIVED, data.get("to"), f"gift:{context['giftId']}",
                  "You received a gift", context)


_SUBSCRIPTION_TITLES = {
    k.SUBSCRIPTION_ACTIVATED: "Subscription active",
    k.SUBSCRIPTION_CHARGED: "Subscription renewed",
    k.SUBSCRIPTION_PAYMENT_FAILED: "Subscription payment failed",
    k.SUBSCRIPTION_HALTED: "Subscription paused",
    k.SUBSCRIPTION_CANCELLED: "Subscription cancelled",
}


def _first(*values: Any) -> Any:
    return next((value for value in values if value not in (None, "")), None)


def subscription(kind: str) -> Callable[[Fact, Any], Notice]:
    """The subscription kinds read the subscriptions plugin's published ``data`` first
    (``subscriptionId``, ``userId``, ``plan``, ``amount``...) and its event's
    ``subscription`` for what the data leaves out."""

    def compose(fact: Fact, event: Any) -> Notice:
        data = fact.data
        sub = _attr(event, "subscription")
        charge = _attr(event, "charge")
        context = {
            "subscriptionId": _first(data.get("subscriptionId"), _attr(sub, "id")),
            "plan": _first(data.get("planName"), data.get("plan"), _attr(sub, "plan"),
                           "your plan"),
            "status": _first(data.get("status"), _attr(sub, "status")),
            "amount": _first(data.get("amount"), _attr(charge, "amount"),
                             _attr(sub, "amount")),
            "currency": _first(data.get("currency"), _attr(charge, "currency"),
                               _attr(sub, "currency")),
            "razorpayPaymentId": _first(data.get("razorpayPaymentId"),
                                        _attr(charge, "razorpay_payment_id"),
                                        _attr(event, "razorpay_payment_id")),
            "currentEnd": _first(data.get("currentEnd"), None),
            "occurredAt": fact.occurred_at.isoformat(),
        }
        if kind == k.SUBSCRIPTION_PAYMENT_FAILED:
            explanation = explain(data.get("errorCode"), data.get("errorDescription"))
            context.update(reason=explanation.reason, advice=explanation.advice)
        user_id = _first(data.get("userId"), _attr(sub, "user_id"))
        return Notice(kind, user_id, f"subscription:{context['subscriptionId']}",
                      _SUBSCRIPTION_TITLES[kind], context)

    return compose


COMPOSERS: dict[str, Callable[[Fact, Any], Notice]] = {
    k.PURCHASE_SUCCEEDED: purchase_succeeded,
    k.PAYMENT_FAILED: payment_failed,
    k.REFUND_PROCESSED: refund_processed,
    k.GIFT_RECEIVED: gift_received,
    **{kind: subscription(kind) for kind in _SUBSCRIPTION_TITLES},
}


def _assets(items: list[dict[str, Any]], locale: str | None) -> str:
    return ", ".join(f"{format_quantity(i['quantity'], locale)} {i['asset']}" for i in items)


def summary(notice: Notice, locale: str | None) -> str:
    """The inbox line, in the reader's locale."""
    c = notice.context
    money = (format_money(c["amount"], c["currency"], locale)
             if isinstance(c.get("amount"), int) and c.get("currency") else "")
    if notice.kind == k.PURCHASE_SUCCEEDED:
        added = _assets(c["grants"], locale)
        return f"{c['title']}: {money} paid" + (f", {added} added." if added else ".")
    if notice.kind == k.PAYMENT_FAILED:
        return f"Your payment of {money} for {c['title']} failed. {c['reason']}"
    if notice.kind == k.REFUND_PROCESSED:
        line = f"{money} refunded for {c['title']}."
        if c["clawedBack"]:
            line += f" Taken back: {_assets(c['clawedBack'], locale)}."
        return line
    if notice.kind == k.GIFT_RECEIVED:
        return f"{c['fromName']} sent you {format_quantity(c['coins'] or 0, locale)} coins."
    return f"{notice.title}: {c['plan']}" + (f", {money}." if money else ".")
