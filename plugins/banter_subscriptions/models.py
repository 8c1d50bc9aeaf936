"""Subscriptions: the gateway plans we created, each user's subscriptions, and every
charge recorded once."""

from __future__ import annotations

import datetime as dt

from sqlalchemy import (
    Boolean,
    CheckConstraint,
    ForeignKey,
    Index,
    Integer,
    String,
    UniqueConstraint,
)
from sqlalchemy.orm import Mapped, mapped_column

from banter_payments.clock import utcnow
from banter_payments.ids import new_id
from banter_payments.models.meta import Base, Money


class GatewayPlan(Base):
    """A Razorpay plan made for one of our plans at one price. Razorpay plans are
    immutable, so a new price is a new row and a new ``plan_...``; subscribers stay on
    the plan they subscribed to."""

    __tablename__ = "subscription_gateway_plans"
    __table_args__ = (
        UniqueConstraint("plan", "period", "interval_count", "amount", "currency",
                         name="uq_subscription_gateway_plans_terms"),
    )

    id: Mapped[str] = mapped_column(String(40), primary_key=True,
                                    default=lambda: new_id("gpl"))
    plan: Mapped[str] = mapped_column(String(100))
    period: Mapped[str] = mapped_column(String(16))
    interval_count: Mapped[int] = mapped_column(Integer)
    amount: Mapped[int] = mapped_column(Money)
    currency: Mapped[str] = mapped_column(String(3))
    razorpay_plan_id: Mapped[str] = mapped_column(String(40), unique=True)
    created_at: Mapped[dt.datetime] = mapped_column(default=utcnow)


class Subscription(Base):
    __tablename__ = "subscriptions"
    __table_args__ = (
        CheckConstraint(
            "status IN ('created', 'authenticated', 'active', 'pending', 'halted', "
            "'paused', 'cancelled', 'completed', 'expired')", name="status_known"),
        CheckConstraint("paid_count >= 0", name="paid_count_not_negative"),
        Index("ix_subscriptions_user_id_created_at", "user_id", "created_at"),
        Index("ix_subscriptions_status_current_end", "status", "current_end"),
    )

    id: Mapped[str] = mapped_column(String(40), primary_key=True,
                                    default=lambda: new_id("sbs"))
    user_id: Mapped[str] = mapped_column(String(128))
    plan: Mapped[str] = mapped_column(String(100))
    # The entitlement the plan grants; one live subscription per user and family.
    family: Mapped[str] = mapped_column(String(64))
    # "user_id|family" while live (LIVE statuses), NULL otherwise: the database refuses
    # a second live subscription whatever the code does.
    live_key: Mapped[str | None] = mapped_column(String(200), unique=True)
    gateway_plan_id: Mapped[str] = mapped_column(
        String(40), ForeignKey("subscription_gateway_plans.id"))
    razorpay_subscription_id: Mapped[str] = mapped_column(String(40), unique=True)
    status: Mapped[str] = mapped_column(String(16), default="created")
    amount: Mapped[int] = mapped_column(Money)
    currency: Mapped[str] = mapped_column(String(3))
    total_count: Mapped[int] = mapped_column(Integer)
    paid_count: Mapped[int] = mapped_column(Integer, default=0)
    current_start: Mapped[dt.datetime | None]
    current_end: Mapped[dt.datetime | None]
    charge_at: Mapped[dt.datetime | None]
    ended_at: Mapped[dt.datetime | None]
    cancel_at_cycle_end: Mapped[bool] = mapped_column(Boolean, default=False)
    # The end of what the recorded charges paid for, plus grace (NULL: nothing paid);
    # cancelling at once brings it forward to the cancellation.
    premium_until: Mapped[dt.datetime | None]
    # When the newest snapshot we applied was taken (the webhook's created_at).
    snapshot_at: Mapped[dt.datetime | None]
    # Not asked about by the check job before this (a claim, then the wait before the
    # next question); NULL: whenever it is due.
    check_after: Mapped[dt.datetime | None]
    created_at: Mapped[dt.datetime] = mapped_column(default=utcnow)
    updated_at: Mapped[dt.datetime] = mapped_column(default=utcnow, onupdate=utcnow)


class SubscriptionCharge(Base):
    """One paid cycle. Unique by Razorpay's payment id and invoice id, so a replayed or
    duplicated webhook, or verify racing one, records it once."""

    __tablename__ = "subscription_charges"
    __table_args__ = (
        Index("ix_subscription_charges_subscription_id", "subscription_id"),
    )

    id: Mapped[str] = mapped_column(String(40), primary_key=True,
                                    default=lambda: new_id("sch"))
    subscription_id: Mapped[str] = mapped_column(String(40),
                                                 ForeignKey("subscriptions.id"))
    razorpay_payment_id: Mapped[str] = mapped_column(String(40), unique=True)
    razorpay_invoice_id: Mapped[str | None] = mapped_column(String(40), unique=True)
    amount: Mapped[int] = mapped_column(Money)
    currency: Mapped[str] = mapped_column(String(3))
    cycle_start: Mapped[dt.datetime]
    cycle_end: Mapped[dt.datetime]
    # Why this charge grants nothing (an amount or currency not the plan's), or NULL.
    anomaly: Mapped[str | None] = mapped_column(String(200))
    # The core order that stands for this charge once an admin refunds it (the core's
    # refunds are refunds of an order's payment); NULL until then.
    order_id: Mapped[str | None] = mapped_column(String(40), ForeignKey("orders.id"),
                                                 unique=True)
    # When a full refund of this charge took back the cycle it paid for.
    refunded_at: Mapped[dt.datetime | None]
    created_at: Mapped[dt.datetime] = mapped_column(default=utcnow)
