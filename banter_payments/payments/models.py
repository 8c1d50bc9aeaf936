"""Payments: one attempt to pay an order (an order may see several: a failed card,
then UPI). Its status only ever moves forward, along ``transitions.PAYMENT_TRANSITIONS``.
"""

from __future__ import annotations

import datetime as dt

from sqlalchemy import CheckConstraint, ForeignKey, Index, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from ..clock import utcnow
from ..ids import new_id
from ..models.meta import Base, Money
from ..orders.models import Order


class Payment(Base):
    __tablename__ = "payments"
    __table_args__ = (
        UniqueConstraint("razorpay_payment_id"),
        Index("ix_payments_order_id", "order_id"),
        CheckConstraint(
            "status IN ('created', 'authorized', 'captured', 'refunded', 'failed')",
            name="status_known",
        ),
    )

    id: Mapped[str] = mapped_column(String(40), primary_key=True,
                                    default=lambda: new_id("pmt"))
    order_id: Mapped[str] = mapped_column(ForeignKey("orders.id"))
    razorpay_payment_id: Mapped[str] = mapped_column(String(64))
    status: Mapped[str] = mapped_column(String(16))
    method: Mapped[str | None] = mapped_column(String(32))
    amount: Mapped[int] = mapped_column(Money)
    currency: Mapped[str] = mapped_column(String(3))
    error_code: Mapped[str | None] = mapped_column(String(64))
    error_description: Mapped[str | None] = mapped_column(String(500))
    created_at: Mapped[dt.datetime] = mapped_column(default=utcnow)
    updated_at: Mapped[dt.datetime] = mapped_column(default=utcnow, onupdate=utcnow)
    authorized_at: Mapped[dt.datetime | None]
    captured_at: Mapped[dt.datetime | None]
    failed_at: Mapped[dt.datetime | None]

    order: Mapped[Order] = relationship(back_populates="payments")
