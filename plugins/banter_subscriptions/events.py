"""What subscriptions announce: subscribe to an event (inside the transaction) or to
``Committed`` with ``for_event=`` (after commit, for notifications). Each is emitted
once per state change or charge, however often its webhook is delivered."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from banter_payments.events import PaymentsEvent


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
