"""Webhook timings, observed around the webhook route without touching its code.

The tween sits over pyramid_tm, so what it measures includes the commit, and what it
writes happens after it: the delivery's own transaction never pays for a metrics row.
Rows are buffered per process and written ``metrics.webhook_timings_batch`` at a time
(or when the oldest has waited ``metrics.webhook_timings_flush_seconds``) in one
multi-row INSERT, so the cost per delivery is a fraction of one statement. The price: a
process that dies loses its unwritten timings (at most one batch), which a statistic of
lag can afford.
"""

from __future__ import annotations

import atexit
import datetime as dt
import json
import logging
import threading
import time
import weakref
from typing import Any

import sqlalchemy as sa

from ..clock import utcnow
from ..timings import WEBHOOK_LAG, WEBHOOK_PROCESSING
from .models import WebhookTiming

log = logging.getLogger(__name__)

WEBHOOK_ROUTE = "payments.webhooks.razorpay"


def outcome_of(response) -> str:
    """The webhook view's outcome, as its answer states it."""
    if response.status_code == 503:
        return "failed"
    if 400 <= response.status_code < 500:
        return "rejected"
    if response.status_code >= 500:
        return "error"
    try:
        status = json.loads(response.body).get("status")
    except (ValueError, AttributeError):
        return "error"
    return status if isinstance(status, str) else "error"


def event_created_at(body: bytes) -> dt.datetime | None:
    """The envelope's ``created_at`` (Unix seconds), when the body carries one."""
    try:
        created = json.loads(body).get("created_at")
    except (ValueError, AttributeError):
        return None
    if isinstance(created, bool) or not isinstance(created, int) or created <= 0:
        return None
    try:
        return dt.datetime.fromtimestamp(created, dt.UTC)
    except (OverflowError, OSError, ValueError):
        return None


# Every live buffer, flushed when the interpreter exits; weak, so that an app that is
# gone (tests build many) does not keep its engine alive.
_BUFFERS: weakref.WeakSet[TimingBuffer] = weakref.WeakSet()


@atexit.register
def _flush_all() -> None:
    for buffer in list(_BUFFERS):
        buffer.flush()


class TimingBuffer:
    """This process's timings not yet written; thread-safe."""

    def __init__(self, engine, batch: int, flush_seconds: float) -> None:
        self.engine = engine
        self.batch = batch
        self.flush_seconds = flush_seconds
        self._rows: list[dict[str, Any]] = []
        self._oldest = 0.0
        self._lock = threading.Lock()

    def add(self, row: dict[str, Any]) -> None:
        now = time.monotonic()
        with self._lock:
            if not self._rows:
                self._oldest = now
            self._rows.append(row)
            due = (len(self._rows) >= self.batch
                   or now - self._oldest >= self.flush_seconds)
            rows, self._rows = (self._rows, []) if due else ([], self._rows)
        if rows:
            self._write(rows)

    def discard(self) -> None:
        """Forget the rows not yet written (a test reusing the app)."""
        with self._lock:
            self._rows = []

    def flush(self) -> None:
        with self._lock:
            rows, self._rows = self._rows, []
        if rows:
            self._write(rows)

    def _write(self, rows: list[dict[str, Any]]) -> None:
        try:
            with self.engine.begin() as conn:
                conn.execute(sa.insert(WebhookTiming.__table__), rows)
        except Exception:  # a lost statistic must never fail a webhook
            log.exception("could not write %d webhook timings", len(rows))


def webhook_timing_tween_factory(handler, registry):
    settings = registry.settings
    buffer = TimingBuffer(registry["banter_payments.engine"],
                          settings["metrics.webhook_timings_batch"],
                          settings["metrics.webhook_timings_flush_seconds"])
    registry["banter_payments.metrics.timings"] = buffer
    _BUFFERS.add(buffer)

    def tween(request):
        received_at = utcnow()
        started = time.perf_counter()
        response = handler(request)
        route = request.matched_route
        if route is None or route.name != WEBHOOK_ROUTE:
            return response
        seconds = time.perf_counter() - started
        outcome = outcome_of(response)
        created = None if outcome == "rejected" else event_created_at(request.body)
        lag = max((received_at - created).total_seconds(), 0.0) if created else None
        WEBHOOK_PROCESSING.labels(outcome).observe(seconds)
        if lag is not None:
            WEBHOOK_LAG.observe(lag)
        buffer.add({"received_at": received_at, "outcome": outcome[:16],
                    "lag_ms": None if lag is None else round(lag * 1000),
                    "duration_ms": round(seconds * 1000)})
        return response

    return tween
