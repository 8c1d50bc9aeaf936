"""Refunds: money given back for (part of) an order's captured payment.

A ``Refund`` is ``pending`` from the moment its amount is reserved until the gateway
says ``processed`` or ``failed`` (in its API answer or a ``refund.*`` webhook, whichever
comes first). ``clawed_back`` and ``shortfall`` record what the refund took back from the
buyer's wallet and what it could not, because it had been spent.
"""

from __future__ import annotations

import datetime as dt

from sqlalchemy import CheckConstraint, ForeignKey, Index, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from ..clock import utcnow
from ..ids import new_id
from ..models.meta import Base, Money
from ..orders.models import Order

REFUND_STATUSES = ("pending", "processed", "failed")


class Refund(Base):
    __tablename__ = "refunds"
    __table_args__ = (
        UniqueConstraint("razorpay_refund_id"),
        UniqueConstraint("gateway_idempotency_key"),
        CheckConstraint("amount > 0", name="amount_positive"),
        CheckConstraint("status IN ('pending', 'processed', 'failed')", name="status_known"),
        Index("ix_refunds_order_id_id", "order_id", "id"),
        Index("ix_refunds_payment_id_status", "payment_id", "status"),
        Index("ix_refunds_has_shortfall_id", "has_shortfall", "id"),
    )

    id: Mapped[str] = mapped_column(String(40), primary_key=True,
                                    default=lambda: new_id("rfd"))
    order_id: Mapped[str] = mapped_column(ForeignKey("orders.id"))
    payment_id: Mapped[str] = mapped_column(ForeignKey("payments.id"))
    razorpay_payment_id: Mapped[str] = mapped_column(String(64))
    # Null until the gateway has answered (or a webhook has told us).
    razorpay_refund_id: Mapped[str | None] = mapped_column(String(64))
    amount: Mapped[int] = mapped_column(Money)
    currency: Mapped[str] = mapped_column(String(3))
    status: Mapped[str] = mapped_column(String(16), default="pending")
    reason: Mapped[str] = mapped_column(String(500), default="")
    # Razorpay gave back an authorization that was never captured: no money had moved,
    # so nothing is clawed back and the order's refunded amount does not change.
    automatic: Mapped[bool] = mapped_column(default=False)
    # The admin who asked for it; null for a refund we learnt of from the gateway.
    created_by: Mapped[str | None] = mapped_column(String(128))
    # Sent as X-Refund-Idempotency: the same key never refunds twice at the gateway.
    gateway_idempotency_key: Mapped[str | None] = mapped_column(String(64))
    notes: Mapped[dict] = mapped_column(default=dict)
    clawed_back: Mapped[dict] = mapped_column(default=dict)
    shortfall: Mapped[dict] = mapped_column(default=dict)
    # Something could not be clawed back: what operators look for (GET /admin/refunds).
    has_shortfall: Mapped[bool] = mapped_column(default=False)
    failure_reason: Mapped[str | None] = mapped_column(String(500))
    created_at: Mapped[dt.datetime] = mapped_column(default=utcnow)
    updated_at: Mapped[dt.datetime] = mapped_column(default=utcnow, onupdate=utcnow)
    processed_at: Mapped[dt.datetime | None]
    failed_at: Mapped[dt.datetime | None]

    order: Mapped[Order] = relationship(lazy="joined")
