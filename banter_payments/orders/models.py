"""Orders: what we asked Razorpay to collect.

Each order has its payment attempts (``banter_payments.payments.models.Payment``: an
order may see several, a failed card then UPI). Statuses only ever move forward, along
the tables in ``banter_payments.payments.transitions``.
"""

from __future__ import annotations

import datetime as dt
from typing import TYPE_CHECKING

from sqlalchemy import CheckConstraint, ForeignKey, Index, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from ..clock import utcnow
from ..ids import new_id
from ..models.meta import Base, Money

if TYPE_CHECKING:  # the payments package depends on orders, never the other way
    from ..payments.models import Payment

# An order in one of these states may still be paid; reconciliation looks at them.
OPEN_ORDER_STATUSES = ("created", "attempted", "verified")


class Order(Base):
    __tablename__ = "orders"
    __table_args__ = (
        UniqueConstraint("razorpay_order_id"),
        # A retry is made once per failed order; a second retry of the same order is a
        # conflict, not a second new order.
        UniqueConstraint("retry_of_id"),
        Index("ix_orders_source_app_external_ref", "source_app", "external_ref"),
        CheckConstraint("amount > 0", name="amount_positive"),
        CheckConstraint("refunded_amount >= 0 AND refunded_amount <= amount",
                        name="refunded_within_amount"),
        CheckConstraint(
            "status IN ('created', 'attempted', 'verified', 'paid', 'expired')",
            name="status_known",
        ),
        Index("ix_orders_user_id_id", "user_id", "id"),
        Index("ix_orders_status_created_at", "status", "created_at"),
    )

    id: Mapped[str] = mapped_column(String(40), primary_key=True,
                                    default=lambda: new_id("ord"))
    # Null for a service order that pays for a host app's own object without a user.
    user_id: Mapped[str | None] = mapped_column(String(128))
    # Who asked for the order: the user, or the service (host app) that created it.
    created_by: Mapped[str] = mapped_column(String(128))
    # Catalog orders have a sku; service orders have source_app + external_ref instead.
    sku: Mapped[str | None] = mapped_column(String(100))
    source_app: Mapped[str | None] = mapped_column(String(64))
    external_ref: Mapped[str | None] = mapped_column(String(128))
    amount: Mapped[int] = mapped_column(Money)
    currency: Mapped[str] = mapped_column(String(3))
    status: Mapped[str] = mapped_column(String(16), default="created")
    razorpay_order_id: Mapped[str | None] = mapped_column(String(64))
    # What fulfilment grants, frozen at order time so a later catalog change cannot
    # alter what a paid order delivers: {"coins": 600}.
    grants: Mapped[dict] = mapped_column(default=dict)
    entitlements: Mapped[list] = mapped_column(default=list)
    title: Mapped[str] = mapped_column(String(200), default="")
    metadata_: Mapped[dict] = mapped_column("metadata", default=dict)
    customer: Mapped[dict] = mapped_column(default=dict)
    refunded_amount: Mapped[int] = mapped_column(Money, default=0)
    refund_status: Mapped[str] = mapped_column(String(8), default="none")
    retry_of_id: Mapped[str | None] = mapped_column(ForeignKey("orders.id"))
    attempt_count: Mapped[int] = mapped_column(default=1)
    # A gateway report that did not match this order (amount, currency, order id):
    # recorded for an operator, never fulfilled.
    anomaly: Mapped[str | None] = mapped_column(String(500))
    created_at: Mapped[dt.datetime] = mapped_column(default=utcnow)
    updated_at: Mapped[dt.datetime] = mapped_column(default=utcnow, onupdate=utcnow)
    verified_at: Mapped[dt.datetime | None]
    paid_at: Mapped[dt.datetime | None]
    fulfilled_at: Mapped[dt.datetime | None]
    expired_at: Mapped[dt.datetime | None]

    # Loaded on first use: the webhook and reconcile paths never read them, and lists
    # ask for them with selectinload.
    payments: Mapped[list[Payment]] = relationship(
        back_populates="order", order_by="Payment.created_at"
    )

    @property
    def is_confirmed(self) -> bool:
        return self.status == "paid" and self.fulfilled_at is not None

    @property
    def latest_payment(self) -> Payment | None:
        """The payment that decided the order: the captured one, else the newest."""
        if not self.payments:
            return None
        for payment in self.payments:
            if payment.status in ("captured", "refunded"):
                return payment
        return self.payments[-1]
