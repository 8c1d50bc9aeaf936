"""The inbox: queued webhook events processed in batches by the worker runtime.

The route has already answered Razorpay (``services.receive``); here a worker claims up
to ``webhooks.inbox_batch_size`` due events (``queued``, or ``failed`` whose
``next_attempt_at`` has passed) with ``FOR UPDATE SKIP LOCKED``, so any number of
workers share the queue without taking the same event, and runs each through the common
dispatch (``services.apply_event``: its own savepoint) in one transaction per batch,
which amortizes the commit. Each event ends processed, ignored, rejected, failed (tried
again after a backoff) or dead; the delivery it was queued with gets the same outcome,
error and traceback, so the admin routes and ``banter-replay-webhooks`` see it as before.

On SQLite there are no row locks: the batch's transaction begins IMMEDIATE and holds the
database's write lock, which serializes workers just as well.

``drain(registry)`` processes the inbox synchronously until nothing is due: for tests,
tools and anyone who wants an event's effects now.
"""

from __future__ import annotations

import datetime as dt
import logging
import time
from collections.abc import Callable
from typing import Any

import sqlalchemy as sa

from ..clock import utcnow
from ..db import locked, write
from ..jobs import Job
from .models import DUE_EVENT_STATUSES, WebhookDelivery, WebhookEvent
from .services import (
    MAX_TRACEBACK_LENGTH,
    DeliveryInfo,
    RetryPolicy,
    _Refused,
    apply_event,
    clean,
    parse_event,
)

log = logging.getLogger(__name__)

_events = WebhookEvent.__table__
_deliveries = WebhookDelivery.__table__


def _due(limit: int, due_before: dt.datetime) -> Any:
    return locked(
        sa.select(_events.c.id, _events.c.attempts, _events.c.delivery_id)
        .where(_events.c.status.in_(DUE_EVENT_STATUSES),
               _events.c.next_attempt_at <= due_before)
        .order_by(_events.c.next_attempt_at, _events.c.id)
        .limit(limit),
        skip_locked=True)


def process_batch(job: Job, policy: RetryPolicy, *, due_before: dt.datetime | None = None,
                  stopping: Callable[[], bool] = lambda: False) -> int:
    """Claim and process one batch in one transaction; how many events it took."""
    due_before = due_before or utcnow()
    with job.tm:
        session = job.dbsession
        claimed = session.execute(_due(policy.batch_size, due_before)).all()
        if not claimed:
            return 0
        stored = {row.id: row for row in session.execute(
            sa.select(_deliveries.c.id, _deliveries.c.event_id, _deliveries.c.source,
                      _deliveries.c.received_at, _deliveries.c.body)
            .where(_deliveries.c.id.in_([row.delivery_id for row in claimed])))}
        done = 0
        for row in claimed:
            if done and stopping():
                break  # the rest stay queued, released at commit
            _process_one(job, policy, row, stored.get(row.delivery_id))
            done += 1
    return done


def _process_one(job: Job, policy: RetryPolicy, row: Any, delivery_row: Any) -> None:
    session = job.dbsession
    started = time.perf_counter()
    if delivery_row is None:  # cannot happen through the route; kept out of the queue
        write(session, sa.update(_events).where(_events.c.id == row.id).values(
            status="dead", next_attempt_at=None, updated_at=utcnow(),
            error="the delivery to process is missing"))
        log.error("webhook event %s: its delivery %s is missing", row.id, row.delivery_id)
        return
    delivery = DeliveryInfo(id=delivery_row.id, event_id=delivery_row.event_id, event=None,
                            source=delivery_row.source, received_at=delivery_row.received_at,
                            webhook_event_id=row.id)
    try:
        event = parse_event(delivery_row.body)
    except _Refused as refused:  # checked on arrival; only a bug brings one here
        write(session, sa.update(_events).where(_events.c.id == row.id).values(
            status="rejected", next_attempt_at=None, updated_at=utcnow(),
            error=refused.message))
        outcome, error, tb = "rejected", refused.message, None
    else:
        delivery.event = event["event"]
        applied = apply_event(job, row.id, row.attempts, event, delivery, policy)
        outcome, error, tb = applied.outcome, applied.error, applied.traceback
    write(session, sa.update(_deliveries).where(_deliveries.c.id == delivery_row.id).values(
        outcome=outcome, error=error, traceback=clean(tb, MAX_TRACEBACK_LENGTH),
        duration_ms=int((time.perf_counter() - started) * 1000)))


def drain(registry: Any, *, host_url: str = "http://localhost",
          policy: RetryPolicy | None = None) -> int:
    """Process every event due now, batch after batch, until none is; how many.

    Events that fail are not taken again by the same drain (their next attempt is after
    a backoff), so this always ends.
    """
    policy = policy or RetryPolicy.from_settings(registry.settings)
    due_before = utcnow()
    total = 0
    with Job(registry, host_url=host_url) as job:
        while True:
            count = process_batch(job, policy, due_before=due_before)
            total += count
            if count == 0:
                return total


def queued_count(session: Any) -> int:
    """Events waiting in the inbox (queued or failed and to be retried)."""
    return session.scalar(sa.select(sa.func.count()).select_from(_events)
                          .where(_events.c.status.in_(DUE_EVENT_STATUSES)))
