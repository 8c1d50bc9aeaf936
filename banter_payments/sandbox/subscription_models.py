"""The emulator's Subscriptions tables: plans, subscriptions, their invoices, and the
sandbox clock that moves their cycles.

Like the rest of the emulator's tables, only the sandbox reads them; the app sees this
state through the Razorpay API and signed webhooks.
"""

from __future__ import annotations

import datetime as dt

from sqlalchemy import JSON, Boolean, CheckConstraint, ForeignKey, Index, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from banter_payments.models.meta import Base, Money

ID = String(40)


class SandboxPlan(Base):
    __tablename__ = "sandbox_plans"
    __table_args__ = (
        CheckConstraint("amount > 0", name="amount_positive"),
        CheckConstraint("interval_count > 0", name="interval_positive"),
        CheckConstraint("period IN ('daily', 'weekly', 'monthly', 'yearly')",
                        name="period_known"),
    )

    id: Mapped[str] = mapped_column(ID, primary_key=True)
    period: Mapped[str] = mapped_column(String(16))
    interval_count: Mapped[int] = mapped_column(Integer)
    name: Mapped[str] = mapped_column(String(255))
    description: Mapped[str | None] = mapped_column(String(255))
    amount: Mapped[int] = mapped_column(Money)
    currency: Mapped[str] = mapped_column(String(3))
    notes: Mapped[dict] = mapped_column(JSON, default=dict)
    created_at: Mapped[dt.datetime]


class SandboxSubscription(Base):
    __tablename__ = "sandbox_subscriptions"
    __table_args__ = (
        CheckConstraint(
            "status IN ('created', 'authenticated', 'active', 'pending', 'halted', "
            "'paused', 'cancelled', 'completed', 'expired')", name="status_known"),
        CheckConstraint("total_count > 0", name="total_count_positive"),
        CheckConstraint("paid_count >= 0 AND paid_count <= total_count",
                        name="paid_count_range"),
        Index("ix_sandbox_subscriptions_status_charge_at", "status", "charge_at"),
    )

    id: Mapped[str] = mapped_column(ID, primary_key=True)
    plan_id: Mapped[str] = mapped_column(ID, ForeignKey("sandbox_plans.id"))
    status: Mapped[str] = mapped_column(String(16))
    quantity: Mapped[int] = mapped_column(Integer, default=1)
    total_count: Mapped[int] = mapped_column(Integer)
    paid_count: Mapped[int] = mapped_column(Integer, default=0)
    auth_attempts: Mapped[int] = mapped_column(Integer, default=0)
    # Failed attempts at the current cycle's charge; past the retries it halts.
    failed_attempts: Mapped[int] = mapped_column(Integer, default=0)
    customer_notify: Mapped[bool] = mapped_column(Boolean, default=True)
    notes: Mapped[dict] = mapped_column(JSON, default=dict)
    current_start: Mapped[dt.datetime | None]
    current_end: Mapped[dt.datetime | None]
    charge_at: Mapped[dt.datetime | None]
    start_at: Mapped[dt.datetime | None]
    end_at: Mapped[dt.datetime | None]
    ended_at: Mapped[dt.datetime | None]
    cancel_at_cycle_end: Mapped[bool] = mapped_column(Boolean, default=False)
    # What the next charges do: the outcomes a test queued (consumed one per attempt),
    # then ``outcome`` for every attempt after them.
    outcome: Mapped[str] = mapped_column(String(16), default="success")
    queued_outcomes: Mapped[list] = mapped_column(JSON, default=list)
    notify_url: Mapped[str | None] = mapped_column(Text)
    created_at: Mapped[dt.datetime]


class SandboxInvoice(Base):
    __tablename__ = "sandbox_invoices"
    __table_args__ = (
        CheckConstraint("status IN ('issued', 'paid', 'expired')", name="status_known"),
        Index("ix_sandbox_invoices_subscription_id", "subscription_id"),
    )

    id: Mapped[str] = mapped_column(ID, primary_key=True)
    subscription_id: Mapped[str] = mapped_column(ID, ForeignKey("sandbox_subscriptions.id"))
    order_id: Mapped[str] = mapped_column(ID, ForeignKey("sandbox_orders.id"))
    payment_id: Mapped[str | None] = mapped_column(ID)
    status: Mapped[str] = mapped_column(String(16))
    amount: Mapped[int] = mapped_column(Money)
    amount_paid: Mapped[int] = mapped_column(Money, default=0)
    currency: Mapped[str] = mapped_column(String(3))
    billing_start: Mapped[dt.datetime]
    billing_end: Mapped[dt.datetime]
    paid_at: Mapped[dt.datetime | None]
    created_at: Mapped[dt.datetime]


class SandboxClock(Base):
    """One row: how far the sandbox's clock runs ahead of the real one."""

    __tablename__ = "sandbox_clock"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    offset_seconds: Mapped[int] = mapped_column(Money, default=0)


SUBSCRIPTION_TABLES = [
    SandboxPlan.__table__,
    SandboxSubscription.__table__,
    SandboxInvoice.__table__,
    SandboxClock.__table__,
]
