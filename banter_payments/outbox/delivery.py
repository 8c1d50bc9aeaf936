"""The outbox job: claim due messages, deliver them with no transaction open, record.

1. **Claim** a batch in one short transaction: due pending rows whose lease is free,
   ``SELECT ... FOR UPDATE SKIP LOCKED`` on PostgreSQL (concurrent workers take different
   rows without waiting), then a lease (``claimed_until``) written on them, which is what
   keeps other workers away once the claim commits. On SQLite the claim transaction
   begins ``IMMEDIATE``, so claimers are serialized by the database's write lock instead:
   the same outcome with one writer at a time. A message waits while an earlier message
   of its aggregate for the same endpoint is still pending, so one endpoint receives an
   aggregate's messages in sequence order.
2. **Deliver** each message through its channel, outside any transaction: a slow
   receiver never holds a lock or a connection.
3. **Record** each outcome in its own short transaction, at once: delivered; or the
   attempt counted and the next one scheduled with exponential backoff and jitter; or,
   after ``outbox.max_attempts``, dead. A worker killed between 2 and 3 leaves a lease
   that expires, and another worker delivers the message again: at least once.

An endpoint that fails ``outbox.circuit_failures`` times in a row is backed off as a whole
(a circuit breaker shared by every worker through ``outbox_endpoint_states``): none of
its messages are claimed until the cool-down has passed, then one probe at a time until
one succeeds. Its messages lose no attempts while the circuit is open.
"""

from __future__ import annotations

import datetime as dt
import logging
import random
from collections.abc import Callable, Mapping
from dataclasses import dataclass

import sqlalchemy as sa
from sqlalchemy.orm import sessionmaker

from ..clock import utcnow
from ..db import locked, upsert
from .interfaces import Channel, DeliveryFailed, Endpoint, OutboundMessage
from .models import OutboxEndpointState, OutboxMessage

log = logging.getLogger(__name__)

MAX_ERROR_LENGTH = 1000

_messages = OutboxMessage.__table__
_states = OutboxEndpointState.__table__
_earlier = _messages.alias("earlier")


@dataclass(frozen=True)
class DeliveryPolicy:
    max_attempts: int = 12
    retry_base: float = 2.0
    retry_max: float = 3600.0
    timeout: float = 5.0
    batch_size: int = 50
    circuit_failures: int = 5
    circuit_cooldown: float = 30.0
    lease_margin: float = 30.0

    @classmethod
    def from_settings(cls, settings: Mapping) -> DeliveryPolicy:
        return cls(
            max_attempts=settings["outbox.max_attempts"],
            retry_base=settings["outbox.retry_base_seconds"],
            retry_max=settings["outbox.retry_max_seconds"],
            timeout=settings["outbox.timeout_seconds"],
            batch_size=settings["outbox.batch_size"],
            circuit_failures=settings["outbox.circuit_failures"],
            circuit_cooldown=settings["outbox.circuit_cooldown_seconds"],
            lease_margin=settings["outbox.lease_margin_seconds"],
        )

    @property
    def lease(self) -> dt.timedelta:
        """Long enough to deliver a whole batch at the timeout, plus a margin."""
        return dt.timedelta(seconds=self.batch_size * (self.timeout + 1) + self.lease_margin)

    def backoff(self, attempts: int, rng: random.Random) -> dt.timedelta:
        """Delay before attempt ``attempts + 1``: exponential, capped, with "equal
        jitter" (half fixed, half random) so that messages failed together spread out."""
        delay = min(self.retry_max, self.retry_base * 2 ** max(attempts - 1, 0))
        return dt.timedelta(seconds=delay / 2 + rng.random() * delay / 2)

    def circuit_open_for(self, failures: int) -> dt.timedelta:
        """How long an endpoint with ``failures`` failures in a row is left alone:
        the cool-down, doubled for each failed probe, capped at ``retry_max`` (or the
        cool-down, if that is longer)."""
        extra = min(max(failures - self.circuit_failures, 0), 16)
        cap = max(self.retry_max, self.circuit_cooldown)
        return dt.timedelta(seconds=min(cap, self.circuit_cooldown * 2 ** extra))


@dataclass
class BatchReport:
    claimed: int = 0
    delivered: int = 0
    failed: int = 0
    dead: int = 0
    released: int = 0


class OutboxDeliverer:
    """Delivers due messages for one worker; safe to run in any number of processes."""

    def __init__(self, factory: sessionmaker, *, endpoints: Mapping[str, Endpoint],
                 channels: Mapping[str, Channel], policy: DeliveryPolicy, worker: str,
                 rng: random.Random | None = None,
                 clock: Callable[[], dt.datetime] = utcnow) -> None:
        self.factory = factory
        self.endpoints = endpoints
        self.channels = channels
        self.policy = policy
        self.worker = worker[:80]
        self.rng = rng or random.Random()
        self.clock = clock

    # 1. claim

    def claim(self, limit: int | None = None) -> list[OutboundMessage]:
        now = self.clock()
        limit = limit or self.policy.batch_size
        with self.factory() as session, session.begin():
            opened, half_open = self._circuits(session, now)
            candidates = session.execute(locked(
                sa.select(_messages.c.id, _messages.c.event_id, _messages.c.topic,
                          _messages.c.endpoint, _messages.c.channel, _messages.c.sequence,
                          _messages.c.payload, _messages.c.attempts)
                .where(_messages.c.status == "pending",
                       _messages.c.next_attempt_at <= now,
                       sa.or_(_messages.c.claimed_until.is_(None),
                              _messages.c.claimed_until <= now),
                       _messages.c.endpoint.not_in(opened) if opened else sa.true(),
                       ~sa.exists().where(
                           _earlier.c.endpoint == _messages.c.endpoint,
                           _earlier.c.aggregate_type == _messages.c.aggregate_type,
                           _earlier.c.aggregate_id == _messages.c.aggregate_id,
                           _earlier.c.sequence < _messages.c.sequence,
                           _earlier.c.status == "pending"))
                .order_by(_messages.c.next_attempt_at, _messages.c.id)
                .limit(limit),
                skip_locked=True, of=_messages)
            ).all()
            probing: set[str] = set()
            kept = []
            for row in candidates:
                if row.endpoint in half_open:
                    if row.endpoint in probing:
                        continue
                    probing.add(row.endpoint)
                kept.append(row)
            if not kept:
                return []
            until = now + self.policy.lease
            session.execute(
                sa.update(_messages).where(_messages.c.id.in_([row.id for row in kept]))
                .values(claimed_until=until, claimed_by=self.worker))
        return [OutboundMessage(id=row.id, event_id=row.event_id, topic=row.topic,
                                endpoint=row.endpoint, channel=row.channel,
                                sequence=row.sequence, payload=row.payload, attempts=row.attempts,
                                claimed_until=until) for row in kept]

    def _circuits(self, session, now: dt.datetime) -> tuple[list[str], set[str]]:
        """(endpoints whose circuit is open, endpoints allowed one probe)."""
        rows = session.execute(
            sa.select(_states.c.endpoint, _states.c.open_until)
            .where(_states.c.consecutive_failures >= self.policy.circuit_failures)
        ).all()
        opened = [row.endpoint for row in rows if row.open_until and row.open_until > now]
        half_open = {row.endpoint for row in rows if row.endpoint not in opened}
        return opened, half_open

    # 2. deliver, 3. record

    def run_batch(self, stopping: Callable[[], bool] = lambda: False) -> BatchReport:
        """Claim one batch and deliver it; stops early (releasing what is left) when
        ``stopping()`` turns true or an endpoint's circuit opens."""
        report = BatchReport()
        claimed = self.claim()
        report.claimed = len(claimed)
        tripped: set[str] = set()
        for index, message in enumerate(claimed):
            if stopping():
                report.released += self.release(claimed[index:])
                break
            if message.endpoint in tripped or self.clock() >= message.claimed_until:
                report.released += self.release([message])
                continue
            error = self._deliver(message)
            if error is None:
                self.record_delivered(message)
                report.delivered += 1
                continue
            dead, circuit_open = self.record_failed(message, error)
            report.failed += 1
            report.dead += dead
            if circuit_open:
                tripped.add(message.endpoint)
        if claimed:
            log.info("outbox: claimed %d, delivered %d, failed %d (dead %d), released %d",
                     report.claimed, report.delivered, report.failed, report.dead,
                     report.released)
        return report

    def _deliver(self, message: OutboundMessage) -> str | None:
        """None when delivered, else what went wrong."""
        endpoint = self.endpoints.get(message.endpoint)
        if endpoint is None:
            return f"endpoint {message.endpoint!r} is not configured"
        channel = self.channels.get(message.channel)
        if channel is None:
            return f"no outbox channel {message.channel!r} is registered"
        try:
            channel(message, endpoint)
        except DeliveryFailed as exc:
            return exc.error or "delivery failed"
        except Exception as exc:  # a channel bug must not stop the worker
            log.exception("outbox channel %s failed on %s", message.channel, message.id)
            return f"{type(exc).__name__}: {exc}"
        return None

    def record_delivered(self, message: OutboundMessage) -> None:
        now = self.clock()
        with self.factory() as session, session.begin():
            session.execute(
                sa.update(_messages)
                .where(_messages.c.id == message.id, _messages.c.status == "pending")
                .values(status="delivered", delivered_at=now, updated_at=now,
                        attempts=_messages.c.attempts + 1, claimed_until=None,
                        claimed_by=None, last_error=None))
            session.execute(
                sa.update(_states)
                .where(_states.c.endpoint == message.endpoint,
                       _states.c.consecutive_failures > 0)
                .values(consecutive_failures=0, open_until=None, updated_at=now))

    def record_failed(self, message: OutboundMessage, error: str) -> tuple[bool, bool]:
        """Count the failed attempt; (the message is now dead, the circuit is open)."""
        now = self.clock()
        error = error[:MAX_ERROR_LENGTH]
        attempts = message.attempts + 1
        dead = attempts >= self.policy.max_attempts
        values = {"attempts": _messages.c.attempts + 1, "last_error": error,
                  "updated_at": now, "claimed_until": None, "claimed_by": None}
        if dead:
            values["status"] = "dead"
        else:
            values["next_attempt_at"] = now + self.policy.backoff(attempts, self.rng)
        with self.factory() as session, session.begin():
            session.execute(
                sa.update(_messages)
                .where(_messages.c.id == message.id, _messages.c.status == "pending",
                       _messages.c.claimed_by == self.worker)
                .values(**values))
            failures = self._count_endpoint_failure(session, message.endpoint, error, now)
            circuit_open = failures >= self.policy.circuit_failures
            if circuit_open:
                session.execute(
                    sa.update(_states).where(_states.c.endpoint == message.endpoint)
                    .values(open_until=now + self.policy.circuit_open_for(failures)))
        if dead:
            log.error("outbox message %s (%s to %s) is dead after %d attempts: %s",
                      message.id, message.topic, message.endpoint, attempts, error)
        else:
            log.warning("outbox message %s (%s to %s) attempt %d failed: %s", message.id,
                        message.topic, message.endpoint, attempts, error)
        if circuit_open and failures == self.policy.circuit_failures:
            log.warning("outbox endpoint %s failed %d times in a row: backing off",
                        message.endpoint, failures)
        return dead, circuit_open

    def _count_endpoint_failure(self, session, endpoint: str, error: str,
                                now: dt.datetime) -> int:
        return upsert(
            session, _states,
            {"endpoint": endpoint, "consecutive_failures": 1, "last_error": error,
             "updated_at": now},
            ["endpoint"],
            {"consecutive_failures": _states.c.consecutive_failures + 1,
             "last_error": error, "updated_at": now},
            returning=_states.c.consecutive_failures)

    def release(self, messages: list[OutboundMessage]) -> int:
        """Give up the lease on messages not attempted, so any worker takes them now."""
        if not messages:
            return 0
        with self.factory() as session, session.begin():
            session.execute(
                sa.update(_messages)
                .where(_messages.c.id.in_([m.id for m in messages]),
                       _messages.c.claimed_by == self.worker,
                       _messages.c.status == "pending")
                .values(claimed_until=None, claimed_by=None))
        return len(messages)
