"""What the metrics read: webhook timings, and the indexes that keep a year cheap.

Every figure of ``/admin/metrics`` and every fact counter of ``/metrics`` is a query over
the rows the payments themselves write (orders, payments, refunds, webhook deliveries),
so all processes answer the same and nothing is counted twice. Two things are not in
those rows and get their own table:

- ``WebhookTiming``: per delivery, the webhook lag (receipt time minus the event's
  ``created_at``) and how long the request took. Written in batches after the delivery's
  commit (``metrics.tweens``), so the webhook path pays no extra statement.

The indexes below sit on other domains' tables but exist for the metrics' range queries
(a day out of a year reads a day's rows); they are declared here, next to their reason.
"""

from __future__ import annotations

import datetime as dt

from sqlalchemy import Index, String
from sqlalchemy.orm import Mapped, mapped_column

from ..models.meta import Base, BigIntKey
from ..orders.models import Order
from ..payments.models import Payment
from ..refunds.models import Refund


class WebhookTiming(Base):
    __tablename__ = "metrics_webhook_timings"
    __table_args__ = (
        Index("ix_metrics_webhook_timings_received_at", "received_at"),
    )

    id: Mapped[int] = mapped_column(BigIntKey, primary_key=True, autoincrement=True)
    received_at: Mapped[dt.datetime]
    # The response's outcome: processed, duplicate, ignored, failed, rejected.
    outcome: Mapped[str] = mapped_column(String(16))
    # Null when the body carried no usable created_at (a refused delivery).
    lag_ms: Mapped[int | None]
    duration_ms: Mapped[int]


# Range scans of the report: orders created (and paid) in a window, payment attempts,
# refunds. ``ix_orders_status_created_at`` exists already but leads with the status.
Index("ix_orders_created_at", Order.created_at)
Index("ix_orders_paid_at", Order.paid_at)
Index("ix_payments_created_at", Payment.created_at)
Index("ix_refunds_created_at", Refund.created_at)
