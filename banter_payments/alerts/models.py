"""Where each alert stands, and every time one fired or recovered, in the database so
that every process, worker and cron run agrees.

``AlertState``: one row per alert name. An evaluation moves a row from ``ok`` to
``firing`` (or back) with a conditional UPDATE; only the evaluation whose UPDATE changed
the row announces the change, so evaluators racing in several workers announce it once.
Each move to ``firing`` starts a new *episode* (the row's counter, incremented by that
same UPDATE).

``AlertEvent``: the history the dashboard shows, one row per announcement. Its unique
``(name, episode, kind)`` is the last line of defence, as the ledger's unique reference
is for grants: an episode is raised once and resolved once by construction, whatever
the code above it does.
"""

from __future__ import annotations

import datetime as dt

from sqlalchemy import CheckConstraint, Integer, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from ..clock import utcnow
from ..ids import new_id
from ..models.meta import Base

EVENT_KINDS = ("raised", "resolved")


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
    # How many times this alert has started firing; the current episode while firing.
    episode: Mapped[int] = mapped_column(Integer, default=0, server_default="0")


class AlertEvent(Base):
    __tablename__ = "alert_events"
    __table_args__ = (
        CheckConstraint("kind IN ('raised', 'resolved')", name="kind_known"),
        UniqueConstraint("name", "episode", "kind", name="uq_alert_events_once"),
    )

    # Time-ordered (``alt_01J...``): the history pages newest first by id.
    id: Mapped[str] = mapped_column(String(40), primary_key=True,
                                    default=lambda: new_id("alt"))
    name: Mapped[str] = mapped_column(String(64))
    episode: Mapped[int] = mapped_column(Integer)
    kind: Mapped[str] = mapped_column(String(8))
    value: Mapped[str] = mapped_column(String(64))
    threshold: Mapped[str] = mapped_column(String(64))
    message: Mapped[str] = mapped_column(String(500))
    occurred_at: Mapped[dt.datetime] = mapped_column(default=utcnow)
