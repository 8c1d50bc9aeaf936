"""Writing messages in the fact's transaction, and what operators do with them.

``Outbox.publish`` is the only way a message is born: it runs in the transaction that
records the fact (an in-transaction subscriber of ``OrderPaid`` and the rest, see
``subscribers``), so a rollback (a failed webhook handler, a refused refund, a savepoint
rolled back) takes the message with it and a commit makes both durable at once. Topics no
configured endpoint wants are not written at all: an unused outbox stays empty and costs
nothing.

A publish is two Core statements: an upsert of the aggregate's sequence counter and one
multi-row INSERT (a row per endpoint that wants the topic). Folding the upsert into the
INSERT as a CTE was measured on PostgreSQL and is slower than the two statements.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from typing import Any

import sqlalchemy as sa
from sqlalchemy.orm import Session
from zope.interface import implementer

from ..clock import isoformat, utcnow
from ..db import Dialect, dialect_of, locked, upsert_statement, write
from ..errors import Conflict, NotFound
from ..ids import new_id
from .interfaces import Endpoint, IOutbox
from .models import OutboxMessage, OutboxSequence

_messages = OutboxMessage.__table__
_sequences = OutboxSequence.__table__
# Built once per database and run with the aggregate as parameters.
_NEXT_SEQUENCE: dict[Dialect, sa.Executable] = {}


def _next_sequence_statement(session: Session) -> sa.Executable:
    dialect = dialect_of(session)
    statement = _NEXT_SEQUENCE.get(dialect)
    if statement is None:
        statement = (upsert_statement(session, _sequences, ["aggregate_type", "aggregate_id"],
                                      {"last_sequence": _sequences.c.last_sequence + 1})
                     .values(aggregate_type=sa.bindparam("t"),
                             aggregate_id=sa.bindparam("i"), last_sequence=1)
                     .returning(_sequences.c.last_sequence))
        _NEXT_SEQUENCE[dialect] = statement
    return statement


def next_sequence(session: Session, aggregate_type: str, aggregate_id: str) -> int:
    """The aggregate's next sequence number, taken in the caller's transaction."""
    return write(session, _next_sequence_statement(session),
                 {"t": aggregate_type, "i": aggregate_id}).scalar_one()


@implementer(IOutbox)
class Outbox:
    """The configured endpoints, and publishing facts to those that want them."""

    def __init__(self, endpoints: Mapping[str, Endpoint] | None = None) -> None:
        self.endpoints: dict[str, Endpoint] = dict(endpoints or {})
        self._by_topic: dict[str, list[Endpoint]] | None = None

    def add_endpoint(self, endpoint: Endpoint) -> None:
        self.endpoints[endpoint.name] = endpoint
        self._by_topic = None

    def receivers(self, topic: str) -> list[Endpoint]:
        if self._by_topic is None:
            by_topic: dict[str, list[Endpoint]] = {}
            for endpoint in self.endpoints.values():
                for wanted in endpoint.topics:
                    by_topic.setdefault(wanted, []).append(endpoint)
            self._by_topic = by_topic
        return self._by_topic.get(topic, [])

    def publish(self, session: Session, topic: str, *, aggregate_type: str,
                aggregate_id: str, data: dict[str, Any],
                occurred_at: dt.datetime | None = None) -> str | None:
        receivers = self.receivers(topic)
        if not receivers:
            return None
        now = utcnow()
        event_id = new_id("msg")
        # The envelope without its sequence, which the channel adds from the row.
        payload = {"id": event_id, "type": topic,
                   "occurredAt": isoformat(occurred_at or now), "data": data}
        rows = [{"id": new_id("obm"), "endpoint": endpoint.name, "channel": endpoint.channel}
                for endpoint in receivers]
        shared = {"event_id": event_id, "topic": topic, "aggregate_type": aggregate_type,
                  "aggregate_id": aggregate_id, "payload": payload}
        sequence = next_sequence(session, aggregate_type, aggregate_id)
        write(session, _messages.insert(), [{
            **row, **shared, "sequence": sequence, "status": "pending", "attempts": 0,
            "next_attempt_at": now, "created_at": now, "updated_at": now,
        } for row in rows])
        return event_id


# Operators


def retry_message(session: Session, message_id: str, *,
                  now: dt.datetime | None = None) -> OutboxMessage:
    """A dead (or pending) message is tried again now, with a fresh count of attempts.

    A delivered message is a conflict: delivering it again is the receiver's replay to
    ask for, not ours to decide.
    """
    message = session.scalars(
        locked(sa.select(OutboxMessage).where(OutboxMessage.id == message_id))
    ).one_or_none()
    if message is None:
        raise NotFound("No such outbox message.")
    if message.status == "delivered":
        raise Conflict("The message was delivered already.")
    now = now or utcnow()
    message.status = "pending"
    message.attempts = 0
    message.next_attempt_at = now
    message.claimed_until = None
    message.claimed_by = None
    message.updated_at = now
    session.flush()
    return message


def retry_dead(session: Session, *, endpoint: str | None = None, topic: str | None = None,
               now: dt.datetime | None = None) -> int:
    """Every dead message (of one endpoint or topic) is tried again; how many."""
    now = now or utcnow()
    statement = (sa.update(_messages).where(_messages.c.status == "dead")
                 .values(status="pending", attempts=0, next_attempt_at=now,
                         claimed_until=None, claimed_by=None, updated_at=now))
    if endpoint:
        statement = statement.where(_messages.c.endpoint == endpoint)
    if topic:
        statement = statement.where(_messages.c.topic == topic)
    return write(session, statement).rowcount


def delete_delivered(session: Session, *, older_than: dt.datetime, limit: int = 1000) -> int:
    """Delete up to ``limit`` messages delivered before ``older_than``; how many.

    Bounded, so a clean-up never holds a long transaction; the job calls it until it
    deletes fewer than ``limit``.
    """
    # A derived table around the LIMIT: MariaDB takes no LIMIT in an IN subquery, nor a
    # subquery on the table a DELETE deletes from, but it does take both from a derived
    # table (which every database reads the same).
    batch = sa.select(_messages.c.id).where(
        _messages.c.status == "delivered", _messages.c.delivered_at < older_than,
    ).order_by(_messages.c.delivered_at).limit(limit).subquery("batch")
    return write(
        session, sa.delete(_messages).where(_messages.c.id.in_(sa.select(batch.c.id)))
    ).rowcount


def message_to_json(message: OutboxMessage) -> dict[str, Any]:
    return {
        "id": message.id,
        "eventId": message.event_id,
        "topic": message.topic,
        "endpoint": message.endpoint,
        "channel": message.channel,
        "aggregate": {"type": message.aggregate_type, "id": message.aggregate_id},
        "sequence": message.sequence,
        "status": message.status,
        "attempts": message.attempts,
        "nextAttemptAt": isoformat(message.next_attempt_at),
        "lastError": message.last_error,
        "createdAt": isoformat(message.created_at),
        "deliveredAt": isoformat(message.delivered_at),
        "payload": message.payload,
    }


class OutboxStats:
    """The outbox's two numbers for ``/metrics`` and the dead-letter alert
    (``banter_payments.metrics.interfaces.IOutboxStats``): read from the table, so every
    process answers the same."""

    def _count(self, session: Session, status: str) -> int:
        return session.scalar(
            sa.select(sa.func.count()).select_from(OutboxMessage)
            .where(OutboxMessage.status == status)) or 0

    def backlog(self, session: Session) -> int:
        return self._count(session, "pending")

    def dead(self, session: Session) -> int:
        return self._count(session, "dead")
