"""Receiving a webhook: check it, record it, queue it, answer at once; process it later.

Razorpay delivers at least once, in any order, retries anything but a 2xx for a day, and
then disables the whole webhook. So the route only acknowledges (``receive``), in the
request's transaction:

1. The signature is checked over the raw body against every configured secret; then the
   body must be a JSON event envelope. A delivery failing either is recorded as
   ``rejected`` and answered 400; nothing else happens.
2. The event is claimed and queued: ``INSERT INTO webhook_events ... ON CONFLICT DO
   NOTHING`` (the inbox, ``status = 'queued'``); the delivery row is written; on
   PostgreSQL a ``NOTIFY`` wakes the workers when it commits. That is all: the answer is
   200 ``queued`` or ``duplicate``, whatever the handlers will make of the event later.
   Only a storage failure answers 503.

The inbox's workers (``banter_payments.webhooks.inbox``) then run the common dispatch on
each queued event (``apply_event``): the handlers run inside a savepoint; if one raises,
the savepoint is rolled back (so none of their work survives) and the event is marked
failed, to be retried with backoff and finally dead, where an operator replays it
(``replay``, ``replay_failed_events``). A replay runs the same ``apply_event`` at once.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import logging
import re
import time
import traceback
from dataclasses import dataclass, field
from typing import Any

import pyramid_retry
import sqlalchemy as sa
from pyramid.interfaces import IRequest
from pyramid.request import Request
from sqlalchemy.orm import Session

from ..clock import utcnow
from ..db import (
    insert_unless_present,
    locked,
    notify_on_commit,
    rows_written,
    update_returning,
    write,
)
from ..events import EventSink
from ..ids import new_id
from ..jsonparse import InvalidJSON, parse_json
from ..storable import storable_document, storable_text
from .effects import describe
from .models import WebhookDelivery, WebhookEvent
from .refusals import record_refusal, refusal_reason
from .registry import IgnoreEvent, RejectEvent, handlers_for
from .signatures import signature_matches

log = logging.getLogger(__name__)

# Headers kept with each delivery, for audit; nothing else of the request is stored.
# Never the signature: a stored body with its signature is a pair anyone who reads it
# could post again.
RECORDED_HEADERS = ("X-Razorpay-Event-Id", "Content-Type",
                    "User-Agent", "Request-Id", "X-Forwarded-For")
MAX_HEADER_LENGTH = 300
MAX_EVENT_ID_LENGTH = 100
MAX_ERROR_LENGTH = 1000
MAX_TRACEBACK_LENGTH = 20_000

# Razorpay's event names: "payment.captured", "payment.dispute.created", ...
EVENT_NAME = re.compile(r"[A-Za-z0-9_.\-]{1,100}\Z")

# The channel a queued event is announced on (PostgreSQL NOTIFY; the in-process wake-up).
INBOX_CHANNEL = "banter_webhook_inbox"
# A redelivery of an event in one of these puts it back in the queue.
REQUEUED_EVENT_STATUSES = ("failed", "dead", "rejected")
# What ``replay_failed_events`` replays.
REPLAYABLE_EVENT_STATUSES = ("failed", "dead")

_events = WebhookEvent.__table__
_deliveries = WebhookDelivery.__table__


def clean(value: str | None, limit: int) -> str | None:
    """Untrusted text made storable (``banter_payments.storable``), length bounded."""
    return storable_text(value, limit)


@dataclass
class Received:
    """What one delivery (or replay) came to: its outcome and the answer it gets."""

    outcome: str
    delivery_id: str | None  # None: an unsigned delivery counted, not kept
    error: str | None = None
    error_code: str | None = None
    details: dict[str, Any] = field(default_factory=dict)


@dataclass
class DeliveryInfo:
    """The delivery as handlers see it (``handler(request, event, delivery)``)."""

    id: str
    event_id: str | None
    event: str | None
    source: str
    received_at: Any
    webhook_event_id: str | None = None
    # What the handlers did, for the log line ("paid order ord_...", "changed nothing").
    effects: str | None = None


class InboxQueued:
    """Announced (``registry.notify``) after a transaction that queued an event
    committed: the worker runtime wakes its inbox job on it."""

    def __init__(self, registry: Any):
        self.registry = registry


class _Refused(Exception):  # noqa: N818 - internal signal
    def __init__(self, code: str, message: str, details: dict[str, Any] | None = None):
        super().__init__(message)
        self.code = code
        self.message = message
        self.details = details or {}


def dedup_key(event_id: str | None, body: bytes) -> str:
    """``X-Razorpay-Event-Id`` when usable, else a digest of the body: the same event
    redelivered keeps its id (and, without one, its bytes)."""
    if event_id and len(event_id) <= MAX_EVENT_ID_LENGTH and event_id.isprintable():
        return event_id
    return "sha256:" + hashlib.sha256(body).hexdigest()


# How much of a delivery whose signature does not verify is kept for the audit trail.
UNSIGNED_BODY_KEPT = 2048


def selected_headers(request: Request) -> dict[str, str]:
    return {name: clean(value, MAX_HEADER_LENGTH) for name in RECORDED_HEADERS
            if (value := request.headers.get(name)) is not None}


def parse_event(body: bytes) -> dict[str, Any]:
    """The event envelope, or ``_Refused`` saying what is wrong with it."""
    try:
        # Signed, so not refusable for its text: made storable for every handler.
        event = storable_document(parse_json(body))
    except InvalidJSON:
        raise _Refused("validation_failed", "The body is not valid JSON.") from None
    if not isinstance(event, dict):
        raise _Refused("validation_failed", "The body must be a JSON object.")
    problems = {}
    name = event.get("event")
    if not isinstance(name, str) or not EVENT_NAME.match(name):
        problems["event"] = "must be the event's name"
    if not isinstance(event.get("payload"), dict):
        problems["payload"] = "must be an object"
    if problems:
        raise _Refused("validation_failed", "The body is not a Razorpay event.", problems)
    return event


def receive(request: Request) -> Received:
    """Acknowledge one delivery of ``POST /webhooks/razorpay``: check, record, queue."""
    started = time.perf_counter()
    body = request.body
    headers = selected_headers(request)
    header_event_id = headers.get("X-Razorpay-Event-Id")
    delivery = DeliveryInfo(id=new_id("whd"), event_id=header_event_id, event=None,
                            source="razorpay", received_at=utcnow())
    secrets = request.registry.settings["razorpay.webhook_secrets"]
    try:
        if not signature_matches(body, request.headers.get("X-Razorpay-Signature"),
                                 secrets):
            raise _Refused("signature_invalid",
                           "The X-Razorpay-Signature header does not verify this body.")
        event = parse_event(body)
    except _Refused as refused:
        delivery.event = _peek_event_name(body)
        log.warning("webhook delivery %s refused: %s", delivery.id, refused.message)
        if refused.code == "signature_invalid":
            # Anyone can send these: counted, and only a bounded sample kept, truncated.
            body = body[:UNSIGNED_BODY_KEPT]
            if not record_refusal(
                    request.dbsession, request.registry.settings, address=request.client_addr,
                    reason=refusal_reason(request.headers.get("X-Razorpay-Signature"))):
                return Received("rejected", None, error=refused.message,
                                error_code=refused.code, details=refused.details)
        _record_delivery(request.dbsession, delivery, headers, body, "rejected",
                         error=refused.message, started=started)
        return Received("rejected", delivery.id, error=refused.message,
                        error_code=refused.code, details=refused.details)
    delivery.event = event["event"]
    key = dedup_key(header_event_id, body)
    received = acknowledge(request.dbsession, key, delivery, headers, body,
                           started=started)
    if received.outcome == "queued":
        _wake_workers_after_commit(request)
    return received


def _peek_event_name(body: bytes) -> str | None:
    """For the audit record of a refused delivery: its event name, if one can be read."""
    try:
        name = parse_json(body).get("event")
    except (InvalidJSON, AttributeError):
        return None
    return clean(name, 100) if isinstance(name, str) else None


def acknowledge(session: Session, key: str, delivery: DeliveryInfo,
                headers: dict[str, str], body: bytes, *, started: float) -> Received:
    """Claim the event and record the delivery: ``queued`` or ``duplicate``.

    The claim is one ``INSERT ... ON CONFLICT DO NOTHING`` (on ``dedup_key`` or
    ``body_sha256``); a new event is queued with this delivery as the one to process.
    When the event exists, it is read without a lock: processed, ignored or still queued
    makes this delivery a duplicate; failed, dead or rejected puts it back in the queue
    (with this delivery's body), by a conditional UPDATE so that a worker finishing it
    meanwhile wins: then this one is a duplicate.
    """
    now = utcnow()
    event_pk, previous = _claim(session, key, delivery, hashlib.sha256(body).hexdigest(),
                                now)
    delivery.webhook_event_id = event_pk
    outcome = "queued" if previous is None else "duplicate"
    if previous in REQUEUED_EVENT_STATUSES and _requeue(session, event_pk, delivery.id, now):
        outcome = "queued"
    _record_delivery(session, delivery, headers, body, outcome, started=started)
    if outcome == "queued":
        notify_on_commit(session, INBOX_CHANNEL)
    log.info("webhook %s %s from %s: %s", delivery.event, key, delivery.source, outcome)
    return Received(outcome, delivery.id)


def _wake_workers_after_commit(request: Request) -> None:
    """Ring this process's workers (``InboxQueued``) once the event has committed; on
    PostgreSQL the NOTIFY sent in the transaction wakes every other process's."""
    registry = request.registry

    def wake(success: bool) -> None:
        if success:
            try:
                registry.notify(InboxQueued(registry))
            except Exception:  # the event is committed: a worker's poll finds it
                log.exception("waking the inbox workers failed")

    request.tm.get().addAfterCommitHook(wake)


def _claim(session: Session, key: str, delivery: DeliveryInfo, body_sha256: str,
           now: Any) -> tuple[str, str | None]:
    """(event row id, its status before this delivery, or None if this one created it).

    The event is the one with this key or, failing that, with this signed body: the same
    bytes posted again under a new event id are the same event.
    """
    for _ in range(3):
        created = insert_unless_present(session, _events, {
            "id": new_id("whe"), "dedup_key": key,
            "event_id": clean(delivery.event_id, 128), "event": delivery.event,
            "body_sha256": body_sha256, "status": "queued", "attempts": 0,
            "created_at": now, "updated_at": now, "next_attempt_at": now,
            "delivery_id": delivery.id,
        }, (), returning=_events.c.id)
        if created is not None:
            return created, None
        row = session.execute(
            sa.select(_events.c.id, _events.c.status)
            .where(sa.or_(_events.c.dedup_key == key, _events.c.body_sha256 == body_sha256))
            .order_by((_events.c.dedup_key == key).desc()).limit(1)
        ).one_or_none()
        if row is not None:
            return row.id, row.status
    raise RuntimeError(f"webhook event {key} could be neither inserted nor found")


def _requeue(session: Session, event_pk: str, delivery_id: str, now: Any) -> bool:
    """Queue an event that did not go through again, now; False if it moved on."""
    return update_returning(session, sa.update(_events).where(
        _events.c.id == event_pk, _events.c.status.in_(REQUEUED_EVENT_STATUSES),
    ).values(status="queued", next_attempt_at=now, delivery_id=delivery_id,
             updated_at=now), _events.c.id) is not None


@dataclass(frozen=True)
class RetryPolicy:
    """How the inbox retries an event whose handlers raised: ``max_attempts`` runs in
    all, the n-th retry ``retry_base * 2**(n-1)`` seconds after the failure (at most
    ``retry_max``); then the event is dead until a replay or a redelivery."""

    max_attempts: int = 10
    retry_base: float = 30.0
    retry_max: float = 3600.0
    batch_size: int = 50

    @classmethod
    def from_settings(cls, settings: Any) -> RetryPolicy:
        return cls(max_attempts=settings["webhooks.inbox_max_attempts"],
                   retry_base=settings["webhooks.inbox_retry_base_seconds"],
                   retry_max=settings["webhooks.inbox_retry_max_seconds"],
                   batch_size=settings["webhooks.inbox_batch_size"])

    def backoff(self, attempts: int) -> dt.timedelta:
        seconds = self.retry_base * (2 ** max(0, min(attempts - 1, 30)))
        return dt.timedelta(seconds=min(seconds, self.retry_max))


def apply_event(source: Any, event_pk: str, attempts: int, event: dict[str, Any],
                delivery: DeliveryInfo, policy: RetryPolicy) -> Applied:
    """Run the event's handlers (in a savepoint) and write where the event now stands.

    ``source`` is the worker's ``Job`` (or the request of an admin replay): handlers get
    it as their first argument. A failure is retried at the policy's backoff, or the
    event is dead after ``max_attempts`` runs. The caller holds the event row (claimed
    ``FOR UPDATE SKIP LOCKED``, or locked for a replay) and records the delivery.
    """
    session = source.dbsession
    handlers = handlers_for(source.registry, event["event"])
    if handlers:
        outcome, error, tb, details = _dispatch(source, handlers, event, delivery)
    else:
        outcome, error, tb, details = "ignored", None, None, {}
    if outcome == "rejected" and details:
        # Nobody is answered with the details any more: they are what the record says.
        error = f"{error} {json.dumps(details, sort_keys=True, default=str)}"
    error = clean(error, MAX_ERROR_LENGTH)
    now = utcnow()
    attempts += 1
    status, next_attempt_at = outcome, None
    if outcome == "failed":
        if attempts >= policy.max_attempts:
            status = "dead"
        elif details.get("retry_now"):
            next_attempt_at = now
        else:
            next_attempt_at = now + policy.backoff(attempts)
    write(session, sa.update(_events).where(_events.c.id == event_pk).values(
        status=status, attempts=attempts, error=error,
        next_attempt_at=next_attempt_at, updated_at=now))
    if outcome == "failed":
        log.error("webhook %s (%s) failed (attempt %d, %s): %s", delivery.event, event_pk,
                  attempts, "dead" if status == "dead" else f"next at {next_attempt_at}",
                  error)
    else:
        log.info("webhook %s (%s) from %s: %s%s", delivery.event, event_pk, delivery.source,
                 outcome, f": {delivery.effects}" if delivery.effects else "")
    return Applied(outcome, status, error, tb, details)


@dataclass(frozen=True)
class Applied:
    """What processing an event came to: the delivery's outcome, the event's status."""

    outcome: str
    status: str
    error: str | None = None
    traceback: str | None = None
    details: dict[str, Any] = field(default_factory=dict)


def _dispatch(source: Any, handlers, event: dict[str, Any],
              delivery: DeliveryInfo) -> tuple[str, str | None, str | None, dict]:
    """Run every handler in one savepoint: (outcome, error, traceback, details)."""
    session = source.dbsession
    events = EventSink(source)
    announced = events.mark()
    savepoint = session.begin_nested()
    ignored: list[str] = []
    try:
        written = rows_written(session)
        for handler in handlers:
            try:
                handler(source, event, delivery)
            except IgnoreEvent as exc:
                ignored.append(str(exc) or "ignored")
        delivery.effects = describe(events.pending_since(announced), written,
                                    rows_written(session))
        savepoint.commit()
    except RejectEvent as exc:
        # What the handler noted before rejecting (an anomaly on the order) is kept.
        savepoint.commit()
        log.warning("webhook %s rejected: %s", delivery.event, exc.message)
        return "rejected", exc.message[:MAX_ERROR_LENGTH], None, exc.details
    except Exception as exc:
        if savepoint.is_active:
            savepoint.rollback()
        events.discard_since(announced)
        if _retry_whole_request(source, exc):
            raise
        error = f"{type(exc).__name__}: {exc}"[:MAX_ERROR_LENGTH]
        # A deadlock or serialization failure (two workers' batches touching one order)
        # is nobody's bug: tried again at once rather than after the backoff.
        details = {"retry_now": True} if _retryable(source, exc) else {}
        return "failed", error, traceback.format_exc()[-MAX_TRACEBACK_LENGTH:], details
    if len(ignored) == len(handlers):
        return "ignored", "; ".join(ignored)[:MAX_ERROR_LENGTH], None, {}
    return "processed", None, None, {}


def _retryable(source: Any, exc: Exception) -> bool:
    try:
        return bool(source.tm.get().isRetryableError(exc))
    except Exception:
        return False


def _retry_whole_request(source: Any, exc: Exception) -> bool:
    """A deadlock or serialization failure is pyramid_retry's to replay, unless this
    is the last attempt (then it is recorded as a failure like any other error). A job
    (a replay script) has no pyramid_retry around it: it records the failure."""
    if not IRequest.providedBy(source):
        return False
    try:
        retryable = source.tm.get().isRetryableError(exc)
    except Exception:
        return False
    return bool(retryable) and not pyramid_retry.is_last_attempt(source)


def _record_delivery(session: Session, delivery: DeliveryInfo, headers: dict[str, str],
                     body: bytes, outcome: str, *, started: float,
                     replay_of: str | None = None, error: str | None = None,
                     tb: str | None = None) -> None:
    write(session, _deliveries.insert(), dict(
        id=delivery.id,
        webhook_event_id=delivery.webhook_event_id,
        event_id=clean(delivery.event_id or None, 128),
        event=clean(delivery.event, 100),
        source=delivery.source,
        replay_of_id=replay_of,
        headers=headers,
        body=body,
        received_at=delivery.received_at,
        outcome=outcome,
        error=clean(error, MAX_ERROR_LENGTH) if error else None,
        traceback=clean(tb, MAX_TRACEBACK_LENGTH),
        duration_ms=int((time.perf_counter() - started) * 1000),
    ))


class ReplayRefused(Exception):  # noqa: N818 - mapped to 409 by the admin view
    pass


def replay(source: Any, delivery_id: str, policy: RetryPolicy | None = None) -> Received:
    """Dispatch a stored delivery again, now, as a new delivery with ``source = replay``.

    Only deliveries whose signature verified when they arrived can be replayed (their
    event row exists); the stored body is used as it is. The event row is locked first
    (``FOR UPDATE``): a worker processing the same event finishes before this runs.
    The handlers run even when the event was processed before; they are idempotent, so
    that only re-applies what is already true.
    """
    session = source.dbsession
    stored = session.get(WebhookDelivery, delivery_id)
    if stored is None:
        raise LookupError(delivery_id)
    if stored.webhook_event_id is None:
        raise ReplayRefused("This delivery was refused when it arrived (bad signature or "
                            "body) and cannot be replayed.")
    started = time.perf_counter()
    row = session.execute(locked(
        sa.select(_events.c.id, _events.c.attempts)
        .where(_events.c.id == stored.webhook_event_id))).one()
    event = parse_event(stored.body)
    delivery = DeliveryInfo(id=new_id("whd"), event_id=stored.event_id,
                            event=event["event"], source="replay", received_at=utcnow(),
                            webhook_event_id=row.id)
    applied = apply_event(source, row.id, row.attempts, event, delivery,
                          policy or RetryPolicy.from_settings(source.registry.settings))
    _record_delivery(session, delivery, dict(stored.headers), stored.body, applied.outcome,
                     started=started, replay_of=stored.id, error=applied.error,
                     tb=applied.traceback)
    return Received(applied.outcome, delivery.id, error=applied.error,
                    details=applied.details)


def latest_delivery_id(session: Session, webhook_event_id: str) -> str | None:
    return session.scalar(
        sa.select(_deliveries.c.id)
        .where(_deliveries.c.webhook_event_id == webhook_event_id,
               _deliveries.c.outcome != "duplicate")
        .order_by(_deliveries.c.id.desc()).limit(1)
    )


def failed_event_ids(session: Session, limit: int = 100) -> list[str]:
    """Events whose last processing failed (retrying or dead), oldest first."""
    return list(session.scalars(
        sa.select(_events.c.id).where(_events.c.status.in_(REPLAYABLE_EVENT_STATUSES))
        .order_by(_events.c.updated_at, _events.c.id).limit(limit)
    ))


@dataclass(frozen=True)
class ReplayResult:
    webhook_event_id: str | None
    delivery_id: str | None
    outcome: str
    error: str | None = None


def replay_failed_events(source: Any, *, limit: int = 100) -> list[ReplayResult]:
    """Replay every event whose processing failed (at most ``limit``), each in its own
    transaction on ``source`` (whose transaction manager must be idle).

    Each event row is taken with ``FOR UPDATE SKIP LOCKED`` (PostgreSQL) and must still
    be failed or dead, so several replayers, or a replayer and the inbox's workers, never
    process one event at the same time.
    """
    with source.tm:
        pending = failed_event_ids(source.dbsession, limit)
    results = []
    for event_pk in pending:
        try:
            with source.tm:
                session = source.dbsession
                claimed = session.scalar(locked(
                    sa.select(_events.c.id)
                    .where(_events.c.id == event_pk,
                           _events.c.status.in_(REPLAYABLE_EVENT_STATUSES)),
                    skip_locked=True))
                if claimed is None:
                    continue
                delivery_id = (session.scalar(sa.select(_events.c.delivery_id)
                                              .where(_events.c.id == event_pk))
                               or latest_delivery_id(session, event_pk))
                received = replay(source, delivery_id)
            results.append(ReplayResult(event_pk, received.delivery_id, received.outcome,
                                        received.error))
        except Exception as exc:
            log.exception("replaying webhook event %s failed", event_pk)
            results.append(ReplayResult(event_pk, None, "error",
                                        f"{type(exc).__name__}: {exc}"))
    return results


def replay_deliveries(source: Any, delivery_ids: list[str]) -> list[ReplayResult]:
    """Replay the given stored deliveries, each in its own transaction."""
    results = []
    for delivery_id in delivery_ids:
        try:
            with source.tm:
                received = replay(source, delivery_id)
            results.append(ReplayResult(None, received.delivery_id, received.outcome,
                                        received.error))
        except LookupError:
            results.append(ReplayResult(None, delivery_id, "error", "no such delivery"))
        except ReplayRefused as exc:
            results.append(ReplayResult(None, delivery_id, "error", str(exc)))
    return results
