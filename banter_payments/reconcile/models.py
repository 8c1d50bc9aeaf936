"""Which worker is reconciling which order, and what the last look found.

A row here is a lease: ``claimed_until`` in the future means a worker is asking the
gateway about the order right now, and every other worker leaves it alone. The lease is
taken in a short transaction of its own and never held as a row lock across the
gateway call (DESIGN.md, "Exactly-once without locks held across calls"); a worker that
dies simply lets its lease run out.
"""

from __future__ import annotations

import datetime as dt

from sqlalchemy import ForeignKey, String
from sqlalchemy.orm import Mapped, mapped_column

from ..models.meta import Base


class ReconcileCheck(Base):
    __tablename__ = "reconcile_checks"

    order_id: Mapped[str] = mapped_column(ForeignKey("orders.id"), primary_key=True)
    claimed_until: Mapped[dt.datetime | None]
    claimed_by: Mapped[str | None] = mapped_column(String(64))
    checked_at: Mapped[dt.datetime | None]
    checks: Mapped[int] = mapped_column(default=0)
    # What the last check did: unchanged, paid, attempted, verified, expired, anomaly,
    # or error: <message>.
    last_result: Mapped[str | None] = mapped_column(String(200))
