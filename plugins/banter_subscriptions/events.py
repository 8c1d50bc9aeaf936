"""What subscriptions announce: subscribe to an event (inside the transaction) or to
``Committed`` with ``for_event=`` (after commit, for notifications). Each is emitted
once per state change or charge, however often its webhook is delivered."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Any

from banter_payments.clock import utcnow
from banter_payments.events import PaymentsEvent
from banter_payments.outbox.interfaces import Fact

from .directives import plans


@dataclass(frozen=True)
class SubscriptionActivated(PaymentsEvent):
    subscription: Any


@dataclass(frozen=True)
class SubscriptionCharged(PaymentsEvent):
    subscription: Any
    charge: Any


@dataclass(frozen=True)
class SubscriptionPaymentFailed(PaymentsEvent):
    subscription: Any
    razorpay_payment_id: str | None


@dataclass(frozen=True)
class SubscriptionHalted(PaymentsEvent):
    subscription: Any


@dataclass(frozen=True)
class SubscriptionCancelled(PaymentsEvent):
    subscription: Any


@dataclass(frozen=True)
class SubscriptionPaused(PaymentsEvent):
    subscription: Any


@dataclass(frozen=True)
class SubscriptionResumed(PaymentsEvent):
    subscription: Any


# The outbox topics (``config.add_outbox_topic``): receivers of our signed events and the
# notifications plugin learn of subscription changes through these, never by importing
# this plugin. A subscription is the aggregate; its messages are numbered in order.
TOPICS: dict[type[PaymentsEvent], str] = {
    SubscriptionActivated: "subscription.activated",
    SubscriptionCharged: "subscription.charged",
    SubscriptionPaymentFailed: "subscription.payment_failed",
    SubscriptionHalted: "subscription.halted",
    SubscriptionCancelled: "subscription.cancelled",
    SubscriptionPaused: "subscription.paused",
    SubscriptionResumed: "subscription.resumed",
}


def subscription_fact(event: PaymentsEvent) -> Fact:
    """The message of one subscription event: the subscription as it stands, and the
    charge (``subscription.charged``) or the failed payment (``payment_failed``)."""
    sub = event.subscription
    data: dict[str, Any] = {
        "subscriptionId": sub.id,
        "razorpaySubscriptionId": sub.razorpay_subscription_id,
        "userId": sub.user_id,
        "plan": sub.plan,
        "planName": _plan_name(event.request, sub.plan),
        "status": sub.status,
        "amount": sub.amount,
        "currency": sub.currency,
        "paidCount": sub.paid_count,
        "currentStart": _iso(sub.current_start),
        "currentEnd": _iso(sub.current_end),
        "premiumUntil": _iso(sub.premium_until),
    }
    charge = getattr(event, "charge", None)
    if charge is not None:
        data.update(chargeId=charge.id, amount=charge.amount, currency=charge.currency,
                    razorpayPaymentId=charge.razorpay_payment_id,
                    razorpayInvoiceId=charge.razorpay_invoice_id,
                    currentStart=_iso(charge.cycle_start), currentEnd=_iso(charge.cycle_end))
    if isinstance(event, SubscriptionPaymentFailed):
        data["razorpayPaymentId"] = event.razorpay_payment_id
    return Fact(TOPICS[type(event)], "subscription", sub.id, utcnow(), data)


def _plan_name(request: Any, plan_id: str) -> str:
    """The plan's display name (``add_subscription_plan(name=...)``), or its id when the
    plan has since been removed from the configuration."""
    plan = plans(request.registry).get(plan_id) if request is not None else None
    return plan.name if plan is not None else plan_id


def _iso(value: dt.datetime | None) -> str | None:
    return value.isoformat().replace("+00:00", "Z") if value is not None else None
