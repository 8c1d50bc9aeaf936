"""The background thread that delivers webhooks and settles pending refunds.

Request threads only write to the outbox and wake the worker; the worker makes the HTTP
calls, so a webhook aimed at the app that is serving the request (the usual case in
sandbox mode) never waits on that app's thread pool from inside it. One worker runs per
process per database, started on the first event; any number of processes can each run
one on a shared PostgreSQL outbox, since rows are claimed with ``SKIP LOCKED``.

``flush_webhooks`` is the synchronous way in for tests, which run with
``sandbox.worker = false``.
"""

from __future__ import annotations

import datetime as dt
import logging
import threading
from collections.abc import Mapping
from typing import Any

import requests
from sqlalchemy import func, select

from banter_payments.gateway.transport import WSGITransport

from .config import EMULATOR_KEY, SERVICE_KEY, SandboxConfig
from .models import SandboxWebhook
from .services import SandboxService
from .webhooks import deliver_batch, deliver_due

log = logging.getLogger(__name__)

POLL_INTERVAL_SECONDS = 0.5
BATCH_SIZE = 100


class WebhookWorker:
    """A daemon thread running settle-then-deliver until stopped; it never dies of an error."""

    def __init__(
        self, service: SandboxService, *, poll_interval: float = POLL_INTERVAL_SECONDS
    ) -> None:
        self.service = service
        self.poll_interval = poll_interval
        self._wake = threading.Event()
        self._stop = threading.Event()
        self._thread = threading.Thread(
            target=self._run, name="banter-sandbox-webhooks", daemon=True
        )

    def start(self) -> None:
        self._thread.start()

    def wake(self) -> None:
        self._wake.set()

    def stop(self, timeout: float = 10.0) -> None:
        self._stop.set()
        self._wake.set()
        if self._thread.is_alive() and self._thread is not threading.current_thread():
            self._thread.join(timeout)

    def is_alive(self) -> bool:
        return self._thread.is_alive() and not self._stop.is_set()

    def run_once(self) -> int:
        """Settle due refunds and deliver due webhooks; return how many were delivered."""
        self.service.settle_refunds()
        self.service.capture_due()
        delivered = 0
        while not self._stop.is_set():
            report = deliver_batch(self.service, limit=BATCH_SIZE)
            delivered += report.delivered
            if report.claimed < BATCH_SIZE:
                break
        return delivered

    def _run(self) -> None:
        while not self._stop.is_set():
            self._wake.clear()
            try:
                self.run_once()
            except Exception:
                log.exception("sandbox webhook worker failed a round; it keeps running")
            self._wake.wait(self.poll_interval)


_workers: dict[str, WebhookWorker] = {}
_workers_lock = threading.Lock()


def worker_for(service: SandboxService) -> WebhookWorker:
    """The running worker for ``service``'s database, started if there is none."""
    key = service.config.database_url
    with _workers_lock:
        worker = _workers.get(key)
        if worker is None or not worker.is_alive():
            worker = WebhookWorker(service)
            worker.start()
            _workers[key] = worker
        return worker


def stop_workers(timeout: float = 10.0) -> None:
    """Stop every worker of this process (tests, and the standalone server's shutdown)."""
    with _workers_lock:
        workers = list(_workers.values())
        _workers.clear()
    for worker in workers:
        worker.stop(timeout)


def service_of(target: Any) -> SandboxService:
    """The emulator's service, from the emulator app, the main app, or the service itself."""
    if isinstance(target, SandboxService):
        return target
    registry = getattr(target, "registry", None)
    if registry is not None:
        if SERVICE_KEY in registry:
            return registry[SERVICE_KEY]
        if EMULATOR_KEY in registry:
            return registry[EMULATOR_KEY].registry[SERVICE_KEY]
    raise TypeError(f"no sandbox emulator found in {target!r}")


def flush_webhooks(
    target: Any,
    *,
    app: Any = None,
    http: requests.Session | None = None,
) -> int:
    """Settle every pending refund and try every pending webhook once, now, in order.

    ``target`` is the emulator app, the main app that mounts it, its service, or a
    settings dict (the emulator's database is then opened just for this call). With
    ``app`` (a WSGI app), deliveries are served by it in-process whatever host their URL
    names, which suits WebTest; ``http`` is any other ``requests.Session``. Returns how
    many deliveries succeeded.
    """
    owned = isinstance(target, Mapping)
    service = SandboxService(SandboxConfig.from_settings(target)) if owned else service_of(target)
    if app is not None:
        http = requests.Session()
        http.trust_env = False
        transport = WSGITransport(app)
        http.mount("http://", transport)
        http.mount("https://", transport)
    try:
        service.settle_refunds(everything=True)
        service.capture_due(everything=True)
        return deliver_due(service, limit=None, http=http, include_future=True)
    finally:
        if owned:
            service.close()


def pending_webhooks(target: Any, *, now: dt.datetime | None = None) -> int:
    """How many webhook copies are still waiting for delivery (any time, or due by ``now``)."""
    service = service_of(target)
    query = select(func.count()).where(SandboxWebhook.status.in_(("pending", "delivering")))
    if now is not None:
        query = query.where(SandboxWebhook.deliver_at <= now)
    with service.reader() as session, session.begin():
        return session.scalar(query) or 0
