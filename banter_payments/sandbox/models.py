"""The emulator's own tables: Razorpay's orders, payments, cards and refunds, and a webhook
outbox.

They live on the core ``Base`` so that the one Alembic history creates them, but nothing
outside the sandbox reads them: the app only ever sees this state through the Razorpay
API and signed webhooks, exactly as it would see Razorpay's.
"""

from __future__ import annotations

import datetime as dt

from sqlalchemy import (
    JSON,
    Boolean,
    CheckConstraint,
    ForeignKey,
    Index,
    Integer,
    LargeBinary,
    String,
    Text,
    UniqueConstraint,
)
from sqlalchemy.orm import Mapped, mapped_column, relationship

from banter_payments.models.meta import Base, BigIntKey, Money

from .subscription_models import SUBSCRIPTION_TABLES

ID = String(40)


class SandboxOrder(Base):
    __tablename__ = "sandbox_orders"
    __table_args__ = (
        CheckConstraint("amount > 0", name="amount_positive"),
        CheckConstraint("amount_paid >= 0 AND amount_paid <= amount", name="amount_paid_range"),
        CheckConstraint("status IN ('created', 'attempted', 'paid')", name="status_known"),
        CheckConstraint("attempts >= 0", name="attempts_not_negative"),
    )

    id: Mapped[str] = mapped_column(ID, primary_key=True)
    amount: Mapped[int] = mapped_column(Money)
    amount_paid: Mapped[int] = mapped_column(Money, default=0)
    currency: Mapped[str] = mapped_column(String(3))
    receipt: Mapped[str | None] = mapped_column(String(40))
    notes: Mapped[dict] = mapped_column(JSON, default=dict)
    # Razorpay's ``payment_capture``: capture automatically once authorized.
    auto_capture: Mapped[bool] = mapped_column(Boolean, default=True)
    status: Mapped[str] = mapped_column(String(16), default="created")
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    created_at: Mapped[dt.datetime]


class SandboxCard(Base):
    """Razorpay's card entity, kept apart from its payments as Razorpay keeps it.

    A card payment points at one (``payment.card_id``); ``GET /v1/cards/{id}``,
    ``GET /v1/payments/{id}/card`` and ``expand[]=card`` all read this row. Only the last
    four digits and what the number implies are stored, never the number.
    """

    __tablename__ = "sandbox_cards"
    __table_args__ = (
        CheckConstraint("length(last4) = 4", name="last4_length"),
        CheckConstraint("type IN ('credit', 'debit', 'prepaid')", name="type_known"),
    )

    id: Mapped[str] = mapped_column(ID, primary_key=True)
    name: Mapped[str | None] = mapped_column(String(100))
    last4: Mapped[str] = mapped_column(String(4))
    network: Mapped[str] = mapped_column(String(32))
    type: Mapped[str] = mapped_column(String(16))
    issuer: Mapped[str | None] = mapped_column(String(16))
    international: Mapped[bool] = mapped_column(Boolean, default=False)
    emi: Mapped[bool] = mapped_column(Boolean, default=False)
    created_at: Mapped[dt.datetime]


class SandboxPayment(Base):
    __tablename__ = "sandbox_payments"
    __table_args__ = (
        CheckConstraint("amount > 0", name="amount_positive"),
        CheckConstraint(
            "amount_refunded >= 0 AND amount_refunded <= amount", name="amount_refunded_range"
        ),
        CheckConstraint(
            "status IN ('created', 'authorized', 'captured', 'refunded', 'failed')",
            name="status_known",
        ),
        CheckConstraint(
            "refund_status IS NULL OR refund_status IN ('partial', 'full')",
            name="refund_status_known",
        ),
        Index("ix_sandbox_payments_order_id", "order_id"),
    )

    id: Mapped[str] = mapped_column(ID, primary_key=True)
    order_id: Mapped[str] = mapped_column(ID, ForeignKey("sandbox_orders.id"))
    amount: Mapped[int] = mapped_column(Money)
    currency: Mapped[str] = mapped_column(String(3))
    status: Mapped[str] = mapped_column(String(16))
    method: Mapped[str] = mapped_column(String(16))
    captured: Mapped[bool] = mapped_column(Boolean, default=False)
    amount_refunded: Mapped[int] = mapped_column(Money, default=0)
    refund_status: Mapped[str | None] = mapped_column(String(16))
    description: Mapped[str | None] = mapped_column(String(255))
    card_id: Mapped[str | None] = mapped_column(ID, ForeignKey("sandbox_cards.id"))
    bank: Mapped[str | None] = mapped_column(String(16))
    wallet: Mapped[str | None] = mapped_column(String(16))
    vpa: Mapped[str | None] = mapped_column(String(64))
    email: Mapped[str | None] = mapped_column(String(255))
    contact: Mapped[str | None] = mapped_column(String(32))
    notes: Mapped[dict] = mapped_column(JSON, default=dict)
    fee: Mapped[int | None] = mapped_column(Money)
    tax: Mapped[int | None] = mapped_column(Money)
    error_code: Mapped[str | None] = mapped_column(String(64))
    error_description: Mapped[str | None] = mapped_column(String(255))
    error_source: Mapped[str | None] = mapped_column(String(32))
    error_step: Mapped[str | None] = mapped_column(String(64))
    error_reason: Mapped[str | None] = mapped_column(String(64))
    customer_id: Mapped[str | None] = mapped_column(ID)
    # Razorpay's ``acquirer_data``: the bank's references (rrn, auth code, ...) by method.
    acquirer_data: Mapped[dict | None] = mapped_column(JSON)
    # Where this payment's webhooks go when no fixed URL is configured: the app that
    # served the checkout.
    notify_url: Mapped[str | None] = mapped_column(Text)
    created_at: Mapped[dt.datetime]
    captured_at: Mapped[dt.datetime | None]

    # The card of a card payment; read only inside the session that loaded the payment.
    card: Mapped[SandboxCard | None] = relationship(lazy="select")


class SandboxRefund(Base):
    __tablename__ = "sandbox_refunds"
    __table_args__ = (
        CheckConstraint("amount > 0", name="amount_positive"),
        CheckConstraint("status IN ('pending', 'processed', 'failed')", name="status_known"),
        CheckConstraint("outcome IN ('processed', 'failed')", name="outcome_known"),
        # Razorpay's X-Refund-Idempotency is scoped to the payment; NULL keys never clash.
        UniqueConstraint(
            "payment_id",
            "idempotency_key",
            name="uq_sandbox_refunds_payment_id_idempotency_key",
        ),
        Index("ix_sandbox_refunds_payment_id", "payment_id"),
        Index("ix_sandbox_refunds_status_settle_at", "status", "settle_at"),
    )

    id: Mapped[str] = mapped_column(ID, primary_key=True)
    payment_id: Mapped[str] = mapped_column(ID, ForeignKey("sandbox_payments.id"))
    amount: Mapped[int] = mapped_column(Money)
    currency: Mapped[str] = mapped_column(String(3))
    notes: Mapped[dict] = mapped_column(JSON, default=dict)
    receipt: Mapped[str | None] = mapped_column(String(40))
    arn: Mapped[str | None] = mapped_column(String(32))
    status: Mapped[str] = mapped_column(String(16))
    # Where a pending refund ends up when it settles.
    outcome: Mapped[str] = mapped_column(String(16))
    speed_requested: Mapped[str] = mapped_column(String(16))
    speed_processed: Mapped[str | None] = mapped_column(String(16))
    idempotency_key: Mapped[str | None] = mapped_column(String(255))
    # SHA-256 of the canonical request body, to tell a retry from a reused key.
    request_hash: Mapped[str | None] = mapped_column(String(64))
    notify_url: Mapped[str | None] = mapped_column(Text)
    settle_at: Mapped[dt.datetime | None]
    created_at: Mapped[dt.datetime]


class SandboxCustomer(Base):
    """Razorpay's customer: subscriptions and saved cards hang off one."""

    __tablename__ = "sandbox_customers"
    __table_args__ = (
        Index("ix_sandbox_customers_email", "email"),
        Index("ix_sandbox_customers_contact", "contact"),
    )

    id: Mapped[str] = mapped_column(ID, primary_key=True)
    name: Mapped[str | None] = mapped_column(String(50))
    email: Mapped[str | None] = mapped_column(String(64))
    contact: Mapped[str | None] = mapped_column(String(15))
    gstin: Mapped[str | None] = mapped_column(String(15))
    notes: Mapped[dict] = mapped_column(JSON, default=dict)
    created_at: Mapped[dt.datetime]


class SandboxWebhook(Base):
    """One copy of one event to deliver.

    Duplicated deliveries are several rows with the same ``event_id`` and the same bytes.
    The body and its signature are fixed when the event is raised, so every copy and
    every retry sends exactly the same bytes, as Razorpay does.
    """

    __tablename__ = "sandbox_webhooks"
    __table_args__ = (
        CheckConstraint(
            "status IN ('pending', 'delivering', 'delivered', 'dropped', 'failed')",
            name="status_known",
        ),
        CheckConstraint("attempts >= 0", name="attempts_not_negative"),
        Index("ix_sandbox_webhooks_status_deliver_at", "status", "deliver_at"),
        Index("ix_sandbox_webhooks_event_id", "event_id"),
    )

    id: Mapped[int] = mapped_column(BigIntKey, primary_key=True, autoincrement=True)
    event_id: Mapped[str] = mapped_column(ID)
    event: Mapped[str] = mapped_column(String(64))
    copy: Mapped[int] = mapped_column(Integer, default=1)
    target_url: Mapped[str] = mapped_column(Text)
    body: Mapped[bytes] = mapped_column(LargeBinary)
    signature: Mapped[str] = mapped_column(String(64))
    status: Mapped[str] = mapped_column(String(16), default="pending")
    deliver_at: Mapped[dt.datetime]
    lease_until: Mapped[dt.datetime | None]
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    last_status_code: Mapped[int | None] = mapped_column(Integer)
    last_error: Mapped[str | None] = mapped_column(Text)
    delivered_at: Mapped[dt.datetime | None]
    created_at: Mapped[dt.datetime]


SANDBOX_TABLES = [
    SandboxOrder.__table__,
    SandboxCard.__table__,
    SandboxPayment.__table__,
    SandboxRefund.__table__,
    SandboxCustomer.__table__,
    SandboxWebhook.__table__,
    # Subscriptions (``subscription_models``): after the orders their invoices name.
    *SUBSCRIPTION_TABLES,
]
