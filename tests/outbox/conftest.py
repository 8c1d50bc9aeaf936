"""A real receiver over HTTP on loopback, and an app whose outbox sends to it.

``Receiver`` is what a receiving service would run: it verifies each delivery with the
``standardwebhooks`` verifier, applies each ``webhook-id`` once (deduplicating), and can
be made unkind: fail a share of requests, apply and then answer too late for a share
(the sender times out and sends again), answer slowly, or go down and come back on the
same port.
"""

from __future__ import annotations

import base64
import random
import socket
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest
import sqlalchemy as sa
from standardwebhooks import Webhook, WebhookVerificationError

from banter_payments.jobs import Job
from banter_payments.payments.interfaces import IPaymentService

SECRET_ENV = "BANTER_TEST_OUTBOX_SECRET"
SECRET = "whsec_" + base64.b64encode(bytes(range(32))).decode()
ALL_TOPICS = "order.paid payment.failed refund.processed refund.failed gift.sent"


class Receiver:
    def __init__(self, secret: str = SECRET, *, seed: int = 7) -> None:
        self.verifier = Webhook(secret)
        self.rng = random.Random(seed)
        self.lock = threading.Lock()
        self.fail_rate = 0.0
        self.timeout_rate = 0.0
        self.timeout_sleep = 1.0
        self.delay = 0.0
        self.status = 200
        self.answer = b'{"ok":true}'
        self.location: str | None = None
        self.requests: list[dict] = []
        self.applied: dict[str, dict] = {}
        self.applications: dict[str, int] = {}
        self.rejected = 0
        self.first_request = threading.Event()
        self.port = self._free_port()
        self.server: ThreadingHTTPServer | None = None
        self.thread: threading.Thread | None = None

    @staticmethod
    def _free_port() -> int:
        with socket.socket() as sock:
            sock.bind(("127.0.0.1", 0))
            return sock.getsockname()[1]

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}/hooks"

    def up(self) -> None:
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *args):
                pass

            def do_POST(self):  # noqa: N802 - http.server's spelling
                body = self.rfile.read(int(self.headers.get("Content-Length", 0)))
                receiver.handle(self, body)

        ThreadingHTTPServer.allow_reuse_address = True
        self.server = ThreadingHTTPServer(("127.0.0.1", self.port), Handler)
        self.server.daemon_threads = True
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.thread.start()

    def down(self) -> None:
        if self.server is not None:
            self.server.shutdown()
            self.server.server_close()
            self.server = None

    def handle(self, handler: BaseHTTPRequestHandler, body: bytes) -> None:
        headers = {k.lower(): v for k, v in handler.headers.items()}
        self.first_request.set()
        with self.lock:
            self.requests.append({"headers": headers, "body": body, "path": handler.path})
            roll = self.rng.random()
        if self.delay:
            time.sleep(self.delay)
        try:
            payload = self.verifier.verify(body, headers)
        except WebhookVerificationError:
            with self.lock:
                self.rejected += 1
            return self._answer(handler, 400, b'{"error":"bad signature"}')
        if roll < self.fail_rate:
            return self._answer(handler, 503, b'{"error":"try later"}')
        self.apply(headers["webhook-id"], payload)
        if roll < self.fail_rate + self.timeout_rate:
            time.sleep(self.timeout_sleep)  # applied, but the sender has given up
        self._answer(handler, self.status, self.answer)

    def apply(self, webhook_id: str, payload: dict) -> None:
        """Exactly-once application: the first delivery of an id is applied."""
        with self.lock:
            self.applications[webhook_id] = self.applications.get(webhook_id, 0) + 1
            self.applied.setdefault(webhook_id, payload)

    def _answer(self, handler, status: int, body: bytes) -> None:
        try:
            handler.send_response(status)
            handler.send_header("Content-Type", "application/json")
            handler.send_header("Content-Length", str(len(body)))
            if self.location:
                handler.send_header("Location", self.location)
            handler.end_headers()
            handler.wfile.write(body)
        except OSError:
            pass  # the sender timed out and closed

    def ids_received(self) -> list[str]:
        with self.lock:
            return [r["headers"].get("webhook-id") for r in self.requests]


@pytest.fixture
def receiver():
    receiver = Receiver()
    receiver.up()
    yield receiver
    receiver.down()


@pytest.fixture
def outbox_secret(monkeypatch):
    monkeypatch.setenv(SECRET_ENV, SECRET)
    return SECRET


@pytest.fixture
def settings(settings, receiver, outbox_secret):
    settings.update({
        "outbox.endpoints": f"jobs {receiver.url} {SECRET_ENV} {ALL_TOPICS}",
        "outbox.timeout_seconds": "0.5",
        "outbox.retry_base_seconds": "0.05",
        "outbox.retry_max_seconds": "0.5",
        "outbox.lease_margin_seconds": "1",
        "worker.reconcile_interval_seconds": "0",
    })
    return settings


@pytest.fixture
def app(settings, kit, gateway):
    return kit.make_app(settings, gateway)


@pytest.fixture
def run(registry):
    """``run(fn)``: ``fn(job)`` in one committed transaction of a ``Job``."""

    def call(fn):
        with Job(registry) as job, job.tm:
            return fn(job)

    return call


@pytest.fixture
def pay(run, kit, dbsession):
    """``pay(**order_fields)``: an order, paid through the state machine; the order."""
    def make(metadata: dict | None = None, **fields):
        order = kit.make_order(dbsession, **fields)
        if metadata is not None:
            order.metadata_ = metadata
            dbsession.commit()
        entity = kit.payment_entity(order.razorpay_order_id, amount=order.amount)
        run(lambda job: job.find_service(IPaymentService).apply_gateway_payment(
            job.dbsession.merge(order), entity, source="webhook"))
        return order

    return make


@pytest.fixture
def deliverer(registry):
    """The outbox job of one worker, built as the worker runtime builds it."""
    from banter_payments.outbox.jobs import deliverer_for

    return deliverer_for(registry, "test-worker")


@pytest.fixture
def messages(engine):
    """``messages()``: every outbox row, oldest first, as plain mappings."""
    from banter_payments.outbox.models import OutboxMessage

    def read(**where):
        table = OutboxMessage.__table__
        statement = sa.select(table).order_by(table.c.created_at, table.c.id)
        for column, value in where.items():
            statement = statement.where(table.c[column] == value)
        with engine.connect() as conn:
            return [dict(row._mapping) for row in conn.execute(statement)]

    return read

