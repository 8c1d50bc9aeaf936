"""Receiving a webhook: check it, record it, process each event once, answer fast.

Razorpay delivers at least once, in any order, and retries anything but a 2xx for a day.
So a delivery goes through these steps, all in the request's transaction:

1. The signature is checked over the raw body against every configured secret; then the
   body must be a JSON event envelope. A delivery failing either is recorded as
   ``rejected`` and answered 400; nothing else happens.
2. The event is claimed: ``INSERT INTO webhook_events ... ON CONFLICT (dedup_key) DO
   NOTHING``. The inserter owns it. Anyone else locks the existing row (``SELECT ... FOR
   UPDATE``), which on PostgreSQL waits while a concurrent delivery of the same event is
   still being processed, and then reads how that ended: processed or ignored means this
   delivery is a duplicate; failed or rejected means it is processed again.
3. The handlers run inside a savepoint. If one raises, the savepoint is rolled back (so
   none of their work survives), the event is marked failed with the error, and the view
   *returns* a 503: pyramid_tm commits the record of the failure and Razorpay retries.
   A savepoint rather than a second, short transaction because on SQLite the request's
   transaction already holds the database's write lock and a second one would wait on it.
4. The delivery row is written with its outcome.

The event row is inserted with the status processing is expected to end in, so the
common case (a new event, handled) costs one INSERT for the event and one for the
delivery; the row changes only when processing ends otherwise.
"""

from __future__ import annotations

import hashlib
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
from ..db import insert_unless_present, locked, rows_written, write
from ..events import EventSink
from ..ids import new_id
from ..jsonparse import InvalidJSON, parse_json
from ..storable import storable_document, storable_text
from .effects import describe
from .models import FINAL_EVENT_STATUSES, WebhookDelivery, WebhookEvent
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
    """Handle one delivery of ``POST /webhooks/razorpay``."""
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
    return process(request, event, key, delivery, headers, body, started=started)


def _peek_event_name(body: bytes) -> str | None:
    """For the audit record of a refused delivery: its event name, if one can be read."""
    try:
        name = parse_json(body).get("event")
    except (InvalidJSON, AttributeError):
        return None
    return clean(name, 100) if isinstance(name, str) else None


def process(source: Any, event: dict[str, Any], key: str, delivery: DeliveryInfo,
            headers: dict[str, str], body: bytes, *, started: float,
            replay_of: str | None = None, force: bool = False) -> Received:
    """Claim the event, run its handlers unless it is a duplicate, record the delivery.

    ``source`` is the request the delivery came in, or the ``Job`` replaying stored
    deliveries (a console script): handlers get it as their first argument.

    ``force`` (replays) runs the handlers even when the event was processed before; the
    handlers are idempotent, so that only re-applies what is already true.
    """
    session = source.dbsession
    handlers = handlers_for(source.registry, event["event"])
    expected = "processed" if handlers else "ignored"
    event_pk, previous = _claim(session, key, delivery.event_id, event["event"], expected,
                                hashlib.sha256(body).hexdigest())
    delivery.webhook_event_id = event_pk

    def finish(outcome: str, error: str | None = None, error_code: str | None = None,
               tb: str | None = None, details: dict | None = None) -> Received:
        _record_delivery(session, delivery, headers, body, outcome, started=started,
                         replay_of=replay_of, error=error, tb=tb)
        if outcome in ("processed", "duplicate", "ignored"):
            log.info("webhook %s %s from %s: %s%s", delivery.event, key, delivery.source,
                     outcome, f": {delivery.effects}" if delivery.effects else "")
        return Received(outcome, delivery.id, error=error, error_code=error_code,
                        details=details or {})

    if previous in FINAL_EVENT_STATUSES and not force:
        return finish("duplicate")
    if previous is not None:
        _set_event_status(session, event_pk, expected, attempt=True)
    if not handlers:
        return finish("ignored")

    outcome, error, tb, details = _dispatch(source, handlers, event, delivery)
    if outcome != expected:
        _set_event_status(session, event_pk, outcome, error=error)
    if outcome == "failed":
        log.error("webhook %s (%s) failed: %s", delivery.event, key, error)
        return finish("failed", error=error, error_code="webhook_processing_failed",
                      tb=tb)
    if outcome == "rejected":
        return finish("rejected", error=error, error_code="validation_failed",
                      details=details)
    return finish(outcome, error=error)


def _claim(session: Session, key: str, event_id: str | None, name: str,
           expected: str, body_sha256: str) -> tuple[str, str | None]:
    """(event row id, its status before this delivery, or None if this one created it).

    The event is the one with this key or, failing that, with this signed body: the same
    bytes posted again under a new event id are the same event.
    """
    now = utcnow()
    for _ in range(3):
        created = insert_unless_present(session, _events, {
            "id": new_id("whe"), "dedup_key": key, "event_id": clean(event_id, 128),
            "event": name, "body_sha256": body_sha256,
            "status": expected, "attempts": 1, "created_at": now, "updated_at": now,
        }, (), returning=_events.c.id)
        if created is not None:
            return created, None
        row = session.execute(locked(
            sa.select(_events.c.id, _events.c.status)
            .where(sa.or_(_events.c.dedup_key == key, _events.c.body_sha256 == body_sha256))
            .order_by((_events.c.dedup_key == key).desc()).limit(1))
        ).one_or_none()
        if row is not None:
            return row.id, row.status
    raise RuntimeError(f"webhook event {key} could be neither inserted nor found")


def _set_event_status(session: Session, event_pk: str, status: str, *,
                      error: str | None = None, attempt: bool = False) -> None:
    values: dict[str, Any] = {"status": status, "error": clean(error, MAX_ERROR_LENGTH),
                              "updated_at": utcnow()}
    if attempt:
        values["attempts"] = _events.c.attempts + 1
    write(session, sa.update(_events).where(_events.c.id == event_pk).values(**values))


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
        return "failed", error, traceback.format_exc()[-MAX_TRACEBACK_LENGTH:], {}
    if len(ignored) == len(handlers):
        return "ignored", "; ".join(ignored)[:MAX_ERROR_LENGTH], None, {}
    return "processed", None, None, {}


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


def replay(source: Any, delivery_id: str) -> Received:
    """Dispatch a stored delivery again, as a new delivery with ``source = replay``.

    Only deliveries whose signature verified when they arrived can be replayed (their
    event row exists); the stored body is used as it is.
    """
    session = source.dbsession
    stored = session.get(WebhookDelivery, delivery_id)
    if stored is None:
        raise LookupError(delivery_id)
    if stored.webhook_event_id is None:
        raise ReplayRefused("This delivery was refused when it arrived (bad signature or "
                            "body) and cannot be replayed.")
    key = session.scalar(sa.select(_events.c.dedup_key)
                         .where(_events.c.id == stored.webhook_event_id))
    event = parse_event(stored.body)
    delivery = DeliveryInfo(id=new_id("whd"), event_id=stored.event_id,
                            event=event["event"], source="replay", received_at=utcnow())
    return process(source, event, key, delivery, dict(stored.headers), stored.body,
                   started=time.perf_counter(), replay_of=stored.id, force=True)


def latest_delivery_id(session: Session, webhook_event_id: str) -> str | None:
    return session.scalar(
        sa.select(_deliveries.c.id)
        .where(_deliveries.c.webhook_event_id == webhook_event_id,
               _deliveries.c.outcome != "duplicate")
        .order_by(_deliveries.c.id.desc()).limit(1)
    )


def failed_event_ids(session: Session, limit: int = 100) -> list[str]:
    """Events whose last processing failed, oldest first."""
    return list(session.scalars(
        sa.select(_events.c.id).where(_events.c.status == "failed")
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
    be failed, so several replayers, or a replayer and Razorpay's own redelivery, never
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
                    .where(_events.c.id == event_pk, _events.c.status == "failed"),
                    skip_locked=True))
                if claimed is None:
                    continue
                delivery_id = latest_delivery_id(session, event_pk)
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
