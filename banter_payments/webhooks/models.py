"""What Razorpay sent us, kept for audit, deduplication and replay.

Two tables, because "each event is processed once" and "every delivery is kept" are
different facts:

- ``WebhookEvent``: one row per distinct event, keyed by ``dedup_key`` under a unique
  constraint (``X-Razorpay-Event-Id``, or ``sha256:<digest of the body>`` when the header
  is missing). It is also the inbox (``banter_payments.webhooks.inbox``): its ``status``
  is where processing stands: ``queued`` (acknowledged, waiting for a worker),
  ``processed``, ``ignored`` (nobody handles the event, or it concerns an order we do
  not know), ``failed`` (a handler raised; a worker tries again at ``next_attempt_at``,
  and a redelivery or a replay runs it again), ``dead`` (failed
  ``webhooks.inbox_max_attempts`` times; only a replay or a redelivery runs it again) or
  ``rejected`` (the signed payload does not fit our order). Only events whose signature
  verified get a row, so a forged delivery cannot occupy a real event's id.
  Its ``body_sha256`` is unique too: a signed body already processed is a duplicate even
  when it comes again under another event id (a copy of a stored delivery re-posted).
- ``WebhookDelivery``: one row per HTTP delivery (and per replay), whatever it carried:
  selected headers (never the signature), the raw body bytes, when it came, and its
  outcome (``queued`` until a worker processes it, then ``processed``, ``ignored``,
  ``failed`` or ``rejected``; ``duplicate`` at once) with the error and traceback.
  Deliveries whose signature does not verify are kept only as a bounded sample (anyone
  can send them); the rest are counted in:
- ``WebhookRefusal``: per day, reason and sender network, how many unsigned deliveries
  came, so an attacker's traffic grows a counter, not the table.
"""

from __future__ import annotations

import datetime as dt

from sqlalchemy import (
    CheckConstraint,
    Date,
    ForeignKey,
    Index,
    LargeBinary,
    String,
    Text,
    UniqueConstraint,
)
from sqlalchemy.orm import Mapped, mapped_column

from ..clock import utcnow
from ..ids import new_id
from ..models.meta import Base, BigIntKey

EVENT_STATUSES = ("queued", "processed", "ignored", "failed", "rejected", "dead")
DELIVERY_OUTCOMES = ("queued", "processed", "duplicate", "ignored", "failed", "rejected")
# Statuses after which a redelivery is only a duplicate; the others are tried again.
FINAL_EVENT_STATUSES = ("processed", "ignored")
# Statuses the inbox worker picks up once ``next_attempt_at`` has passed.
DUE_EVENT_STATUSES = ("queued", "failed")


def _in(column: str, values: tuple[str, ...]) -> str:
    return f"{column} IN ({', '.join(repr(v) for v in values)})"


class WebhookEvent(Base):
    __tablename__ = "webhook_events"
    __table_args__ = (
        UniqueConstraint("dedup_key"),
        UniqueConstraint("body_sha256"),
        CheckConstraint(_in("status", EVENT_STATUSES), name="status_known"),
        Index("ix_webhook_events_status_updated_at", "status", "updated_at"),
        Index("ix_webhook_events_status_next_attempt_at", "status", "next_attempt_at"),
    )

    id: Mapped[str] = mapped_column(String(40), primary_key=True,
                                    default=lambda: new_id("whe"))
    dedup_key: Mapped[str] = mapped_column(String(128))
    # X-Razorpay-Event-Id as sent; None when the delivery had none.
    event_id: Mapped[str | None] = mapped_column(String(128))
    event: Mapped[str] = mapped_column(String(100))
    # The signed body's SHA-256 (hex); None for rows older than this column.
    body_sha256: Mapped[str | None] = mapped_column(String(64))
    status: Mapped[str] = mapped_column(String(16))
    # Times the handlers ran on it (0 while it waits in the inbox for the first time).
    attempts: Mapped[int] = mapped_column(default=1)
    error: Mapped[str | None] = mapped_column(String(1000))
    # The inbox: when a worker may next process a queued or failed event (None once it
    # is processed, ignored, rejected or dead), and the delivery whose body it processes.
    next_attempt_at: Mapped[dt.datetime | None]
    delivery_id: Mapped[str | None] = mapped_column(String(40))
    created_at: Mapped[dt.datetime] = mapped_column(default=utcnow)
    updated_at: Mapped[dt.datetime] = mapped_column(default=utcnow)


class WebhookDelivery(Base):
    __tablename__ = "webhook_deliveries"
    __table_args__ = (
        CheckConstraint(_in("outcome", DELIVERY_OUTCOMES), name="outcome_known"),
        CheckConstraint("source IN ('razorpay', 'replay')", name="source_known"),
        Index("ix_webhook_deliveries_outcome_id", "outcome", "id"),
        Index("ix_webhook_deliveries_webhook_event_id", "webhook_event_id"),
        Index("ix_webhook_deliveries_received_at", "received_at"),
    )

    id: Mapped[str] = mapped_column(String(40), primary_key=True,
                                    default=lambda: new_id("whd"))
    # The event this delivery carried; None when the signature or body was refused.
    webhook_event_id: Mapped[str | None] = mapped_column(ForeignKey("webhook_events.id"))
    event_id: Mapped[str | None] = mapped_column(String(128))
    event: Mapped[str | None] = mapped_column(String(100))
    source: Mapped[str] = mapped_column(String(16), default="razorpay")
    # The stored delivery a replay re-dispatched.
    replay_of_id: Mapped[str | None] = mapped_column(ForeignKey("webhook_deliveries.id"))
    headers: Mapped[dict] = mapped_column(default=dict)
    body: Mapped[bytes] = mapped_column(LargeBinary)
    received_at: Mapped[dt.datetime] = mapped_column(default=utcnow)
    outcome: Mapped[str] = mapped_column(String(16))
    error: Mapped[str | None] = mapped_column(String(1000))
    traceback: Mapped[str | None] = mapped_column(Text)
    duration_ms: Mapped[int | None]


class WebhookRefusal(Base):
    """Unsigned deliveries counted per day, reason and sender network."""

    __tablename__ = "webhook_refusals"
    __table_args__ = (
        UniqueConstraint("day", "reason", "source", name="uq_webhook_refusals_day_reason_source"),
    )

    id: Mapped[int] = mapped_column(BigIntKey, primary_key=True, autoincrement=True)
    day: Mapped[dt.date] = mapped_column(Date)
    # signature_missing or signature_invalid
    reason: Mapped[str] = mapped_column(String(32))
    # The sender's network (IPv4 /24, IPv6 /48), or "other" past the day's cap.
    source: Mapped[str] = mapped_column(String(64))
    count: Mapped[int] = mapped_column(BigIntKey)
    first_seen_at: Mapped[dt.datetime] = mapped_column(default=utcnow)
    last_seen_at: Mapped[dt.datetime] = mapped_column(default=utcnow)
