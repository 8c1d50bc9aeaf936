"""The outbox's tables: messages waiting to leave, per-aggregate counters, endpoint health.

A ``OutboxMessage`` is one fact for one endpoint: written in the transaction of the fact
(so it exists if and only if the fact committed), claimed by a worker under a lease,
delivered with no transaction open, and marked ``delivered`` or, after
``outbox.max_attempts`` failures, ``dead`` for an operator to retry.
"""

from __future__ import annotations

import datetime as dt

from sqlalchemy import BigInteger, CheckConstraint, Index, Integer, String
from sqlalchemy.orm import Mapped, mapped_column

from ..clock import utcnow
from ..ids import new_id
from ..models.meta import Base

MESSAGE_STATUSES = ("pending", "delivered", "dead")


class OutboxMessage(Base):
    __tablename__ = "outbox_messages"
    __table_args__ = (
        CheckConstraint("status IN ('pending', 'delivered', 'dead')", name="status_known"),
        CheckConstraint("attempts >= 0", name="attempts_not_negative"),
        # What a worker claims: pending rows whose next attempt is due.
        Index("ix_outbox_messages_status_next_attempt_at", "status", "next_attempt_at"),
        # Per endpoint and aggregate, a message waits for the ones before it.
        Index("ix_outbox_messages_endpoint_aggregate", "endpoint", "aggregate_type",
              "aggregate_id", "sequence"),
        # Retention deletes delivered messages by age.
        Index("ix_outbox_messages_status_delivered_at", "status", "delivered_at"),
    )

    id: Mapped[str] = mapped_column(String(40), primary_key=True,
                                    default=lambda: new_id("obm"))
    # The fact's id: the same for every endpoint, sent as ``webhook-id`` (receivers
    # deduplicate on it) and as the payload's ``id``.
    event_id: Mapped[str] = mapped_column(String(40))
    topic: Mapped[str] = mapped_column(String(64))
    endpoint: Mapped[str] = mapped_column(String(64))
    channel: Mapped[str] = mapped_column(String(32))
    aggregate_type: Mapped[str] = mapped_column(String(32))
    aggregate_id: Mapped[str] = mapped_column(String(64))
    sequence: Mapped[int] = mapped_column(BigInteger)
    # The envelope without its sequence: {"id", "type", "occurredAt", "data"}; the
    # channel sends it with the row's ``sequence`` (``OutboundMessage.envelope``).
    payload: Mapped[dict]
    status: Mapped[str] = mapped_column(String(16), default="pending")
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    next_attempt_at: Mapped[dt.datetime] = mapped_column(default=utcnow)
    claimed_until: Mapped[dt.datetime | None]
    claimed_by: Mapped[str | None] = mapped_column(String(80))
    last_error: Mapped[str | None] = mapped_column(String(1000))
    created_at: Mapped[dt.datetime] = mapped_column(default=utcnow)
    updated_at: Mapped[dt.datetime] = mapped_column(default=utcnow)
    delivered_at: Mapped[dt.datetime | None]


class OutboxSequence(Base):
    """The last sequence number given to a message of one aggregate (an order, a gift).

    Bumped with one upsert in the fact's transaction, which on PostgreSQL row-locks the
    counter: two transactions announcing facts of one order get consecutive numbers.
    """

    __tablename__ = "outbox_sequences"

    aggregate_type: Mapped[str] = mapped_column(String(32), primary_key=True)
    aggregate_id: Mapped[str] = mapped_column(String(64), primary_key=True)
    last_sequence: Mapped[int] = mapped_column(BigInteger)


class OutboxEndpointState(Base):
    """An endpoint's circuit breaker, shared by every worker.

    ``consecutive_failures`` reaching ``outbox.circuit_failures`` opens the circuit until
    ``open_until``: no message for the endpoint is claimed before then, and afterwards one
    probe at a time until a delivery succeeds.
    """

    __tablename__ = "outbox_endpoint_states"

    endpoint: Mapped[str] = mapped_column(String(64), primary_key=True)
    consecutive_failures: Mapped[int] = mapped_column(Integer, default=0)
    open_until: Mapped[dt.datetime | None]
    last_error: Mapped[str | None] = mapped_column(String(1000))
    updated_at: Mapped[dt.datetime] = mapped_column(default=utcnow)
