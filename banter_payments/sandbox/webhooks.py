"""Signed webhook events: raising them into an outbox, and delivering what is due.

An event is written to the outbox in the same transaction as the state change that
raised it, so an event exists exactly when its cause does. Delivery happens later, from
a worker (never from a request thread): a row is claimed in one short committed
transaction (``FOR UPDATE SKIP LOCKED`` on PostgreSQL, so any number of workers can
share the outbox; SQLite's ``BEGIN IMMEDIATE`` serializes claimers instead), the HTTP
call runs with no transaction open, and the outcome is recorded in another. A claim is
a lease: a worker that dies mid-delivery leaves a row that another picks up when the
lease runs out, which is what makes delivery at-least-once.

The knobs make the emulator as unkind as Razorpay is allowed to be: a delay, duplicate
copies of an event (same id, same bytes), a shuffled delivery order, and events that are
never delivered at all.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import hmac
import json
import logging
import random
import threading
import time
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, Protocol

import requests
from sqlalchemy import and_, or_, select, update
from sqlalchemy.orm import Session, sessionmaker

from banter_payments.clock import utcnow
from banter_payments.db import locked
from banter_payments.settings import SETTINGS

from .config import SandboxConfig
from .entities import unix
from .ids import account_id, razorpay_id
from .models import SandboxWebhook

log = logging.getLogger(__name__)

USER_AGENT = "Razorpay-Webhook/v1"
# Extra time a claim is held beyond the HTTP timeout before another worker may retry it.
LEASE_MARGIN_SECONDS = 30.0
# Far enough in the future to count every pending row as due.
END_OF_TIME = dt.datetime(9999, 1, 1, tzinfo=dt.UTC)


def sign(body: bytes, secret: str) -> str:
    """Razorpay's webhook signature: hex HMAC-SHA256 of the raw body."""
    return hmac.new(secret.encode("utf-8"), body, hashlib.sha256).hexdigest()


def event_body(
    event: str, payload: Mapping[str, dict[str, Any]], created_at: int, *, account: str
) -> bytes:
    """The event envelope, serialized once; ``payload`` maps entity names to entities."""
    envelope = {
        "entity": "event",
        "account_id": account,
        "event": event,
        "contains": list(payload),
        "payload": {name: {"entity": entity} for name, entity in payload.items()},
        "created_at": created_at,
    }
    return json.dumps(envelope, separators=(",", ":")).encode("utf-8")


class SeededRandom:
    """A thread-safe random source, seeded when the tests want repeatable knobs."""

    def __init__(self, seed: int | None = None) -> None:
        self._random = random.Random(seed)
        self._lock = threading.Lock()

    def random(self) -> float:
        with self._lock:
            return self._random.random()

    def reseed(self, seed: int | None) -> None:
        """Start the sequence again (an emulator reused by the next test)."""
        with self._lock:
            self._random.seed(seed)


@dataclass(frozen=True)
class RaisedEvent:
    event: str
    payload: dict[str, dict[str, Any]]


def enqueue(
    session: Session,
    config: SandboxConfig,
    rng: SeededRandom,
    events: list[RaisedEvent],
    *,
    target_url: str,
    now: dt.datetime,
    happened_at: dt.datetime | None = None,
) -> list[str]:
    """Write ``events`` (raised together, in this order) to the outbox; return their ids.

    ``happened_at`` is the events' ``created_at`` when it is not ``now`` (a charge the
    sandbox clock made at a simulated moment, delivered from now on)."""
    base = now + dt.timedelta(seconds=config.webhook_delay)
    event_ids = []
    for raised in events:
        event_id = razorpay_id("evt")
        body = event_body(raised.event, raised.payload, unix(happened_at or now),
                          account=account_id(config.key_id))
        signature = sign(body, config.webhook_secret)
        dropped = config.webhook_drop_rate > 0 and rng.random() < config.webhook_drop_rate
        for copy in range(1, config.webhook_duplicates + 1):
            deliver_at = base
            if config.webhook_shuffle:
                deliver_at += dt.timedelta(seconds=rng.random() * config.webhook_shuffle_window)
            session.add(
                SandboxWebhook(
                    event_id=event_id,
                    event=raised.event,
                    copy=copy,
                    target_url=target_url,
                    body=body,
                    signature=signature,
                    status="dropped" if dropped else "pending",
                    deliver_at=deliver_at,
                    attempts=0,
                    created_at=now,
                )
            )
        event_ids.append(event_id)
    return event_ids


class OutboxSource(Protocol):
    """What ``deliver_due`` needs from the emulator: its sessions and its settings."""

    writer: sessionmaker
    config: SandboxConfig


@dataclass(frozen=True)
class DeliveryPolicy:
    timeout: float = SETTINGS["sandbox.webhook_timeout"].default
    retry_base: float = SETTINGS["sandbox.webhook_retry_base"].default
    max_attempts: int = SETTINGS["sandbox.webhook_max_attempts"].default

    @classmethod
    def from_config(cls, config: SandboxConfig) -> DeliveryPolicy:
        return cls(config.webhook_timeout, config.webhook_retry_base, config.webhook_max_attempts)

    def retry_delay(self, attempts: int) -> dt.timedelta:
        return dt.timedelta(seconds=self.retry_base * 2 ** (attempts - 1))


@dataclass(frozen=True)
class _Claimed:
    id: int
    event_id: str
    event: str
    target_url: str
    body: bytes
    signature: str
    attempts: int


@dataclass(frozen=True)
class DeliveryReport:
    claimed: int
    delivered: int


def deliver_due(
    source: OutboxSource | sessionmaker,
    *,
    now: dt.datetime | None = None,
    limit: int | None = 100,
    http: requests.Session | None = None,
    include_future: bool = False,
) -> int:
    """Deliver the outbox rows due at ``now``; return how many were delivered (2xx).

    ``source`` is the emulator's service (whose settings give the timeout and the retry
    policy) or a bare session factory (default policy). ``http`` replaces
    ``requests.post``, e.g. with an in-process session; ``include_future`` treats every
    pending row as due, for tests that fast-forward. Each row is tried at most once per
    call; a failure is rescheduled with exponential backoff, or marked ``failed`` after
    the last attempt.
    """
    report = deliver_batch(source, now=now, limit=limit, http=http, include_future=include_future)
    return report.delivered


def deliver_batch(
    source: OutboxSource | sessionmaker,
    *,
    now: dt.datetime | None = None,
    limit: int | None = 100,
    http: requests.Session | None = None,
    include_future: bool = False,
) -> DeliveryReport:
    """``deliver_due``, also telling how many rows were claimed (for a worker's loop)."""
    factory, policy = _resolve(source)
    explicit_now = now is not None
    now = now or utcnow()
    claimed = _claim(factory, policy, now=now, limit=limit, include_future=include_future)
    delivered = 0
    for row in claimed:
        started = time.perf_counter()
        status_code, error = _post(row, policy, http)
        latency_ms = (time.perf_counter() - started) * 1000
        recorded_at = now if explicit_now else utcnow()
        ok = status_code is not None and 200 <= status_code < 300
        outcome = _record(factory, policy, row, ok=ok, status_code=status_code, error=error,
                          at=recorded_at)
        _log_attempt(row, status_code, error, latency_ms, outcome)
        delivered += ok
    return DeliveryReport(claimed=len(claimed), delivered=delivered)


def _resolve(source: OutboxSource | sessionmaker) -> tuple[sessionmaker, DeliveryPolicy]:
    if isinstance(source, sessionmaker):
        return source, DeliveryPolicy()
    return source.writer, DeliveryPolicy.from_config(source.config)


def _claim(
    factory: sessionmaker,
    policy: DeliveryPolicy,
    *,
    now: dt.datetime,
    limit: int | None,
    include_future: bool,
) -> list[_Claimed]:
    due = SandboxWebhook.status == "pending"
    if not include_future:
        due = and_(due, SandboxWebhook.deliver_at <= now)
    abandoned = and_(SandboxWebhook.status == "delivering", SandboxWebhook.lease_until < now)
    query = locked(
        select(SandboxWebhook)
        .where(or_(due, abandoned))
        .order_by(SandboxWebhook.deliver_at, SandboxWebhook.id),
        skip_locked=True,
    )
    if limit is not None:
        query = query.limit(limit)
    lease_until = now + dt.timedelta(seconds=policy.timeout + LEASE_MARGIN_SECONDS)
    with factory() as session, session.begin():
        rows = session.scalars(query).all()
        for row in rows:
            row.status = "delivering"
            row.attempts += 1
            row.lease_until = lease_until
        return [
            _Claimed(row.id, row.event_id, row.event, row.target_url, row.body, row.signature,
                     row.attempts)
            for row in rows
        ]


def _post(
    row: _Claimed, policy: DeliveryPolicy, http: requests.Session | None
) -> tuple[int | None, str | None]:
    headers = {
        "Content-Type": "application/json",
        "User-Agent": USER_AGENT,
        "X-Razorpay-Signature": row.signature,
        "X-Razorpay-Event-Id": row.event_id,
    }
    post = http.post if http is not None else requests.post
    try:
        response = post(row.target_url, data=row.body, headers=headers, timeout=policy.timeout)
    except requests.RequestException as exc:
        return None, f"{type(exc).__name__}: {exc}"[:1000]
    except Exception as exc:
        # An in-process target may raise anything; it is still just a failed delivery.
        log.exception("webhook delivery to %s raised", row.target_url)
        return None, f"{type(exc).__name__}: {exc}"[:1000]
    response.close()
    if 200 <= response.status_code < 300:
        return response.status_code, None
    return response.status_code, f"HTTP {response.status_code}: {response.text[:500]}"


def _log_attempt(row: _Claimed, status_code: int | None, error: str | None,
                 latency_ms: float, outcome: str) -> None:
    """One line per delivery attempt, so a developer sees every webhook the app got (or
    did not): a failure is a warning."""
    level = logging.INFO if status_code is not None and 200 <= status_code < 300 else (
        logging.WARNING)
    log.log(level, "webhook %s %s attempt %d -> %s in %.0fms: %s (%s)", row.event,
            row.event_id, row.attempts, status_code if status_code is not None else "no answer",
            latency_ms, outcome, error or row.target_url)


def _record(
    factory: sessionmaker,
    policy: DeliveryPolicy,
    row: _Claimed,
    *,
    ok: bool,
    status_code: int | None,
    error: str | None,
    at: dt.datetime,
) -> str:
    """Store the attempt's outcome; return it in words for the log."""
    values: dict[str, Any] = {
        "last_status_code": status_code,
        "last_error": error,
        "lease_until": None,
    }
    if ok:
        values.update(status="delivered", delivered_at=at)
        outcome = "delivered"
    elif row.attempts >= policy.max_attempts:
        values.update(status="failed")
        outcome = f"failed for good after {row.attempts} attempts"
    else:
        delay = policy.retry_delay(row.attempts)
        values.update(status="pending", deliver_at=at + delay)
        outcome = f"retry in {delay.total_seconds():g}s"
    with factory() as session, session.begin():
        session.execute(
            update(SandboxWebhook)
            .where(SandboxWebhook.id == row.id, SandboxWebhook.status == "delivering")
            .values(**values)
        )
    return outcome
