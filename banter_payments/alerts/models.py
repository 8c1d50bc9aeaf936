"""Where each alert stands, in the database so that every process and cron run agrees.

One row per alert name. An evaluation moves a row from ``ok`` to ``firing`` (or back)
with a conditional UPDATE; only the run whose UPDATE changed the row announces the
change, so two evaluators racing announce it once.
"""

from __future__ import annotations

import datetime as dt

from sqlalchemy import CheckConstraint, String
from sqlalchemy.orm import Mapped, mapped_column

from ..clock import utcnow
from ..models.meta import Base


class AlertState(Base):
    __tablename__ = "alert_states"
    __table_args__ = (
        CheckConstraint("state IN ('ok', 'firing')", name="state_known"),
    )

    name: Mapped[str] = mapped_column(String(64), primary_key=True)
    state: Mapped[str] = mapped_column(String(8), default="ok")
    # What the last evaluation measured, as text ("0.8123", "42"), for operators.
    value: Mapped[str | None] = mapped_column(String(64))
    changed_at: Mapped[dt.datetime] = mapped_column(default=utcnow)
    evaluated_at: Mapped[dt.datetime] = mapped_column(default=utcnow)
