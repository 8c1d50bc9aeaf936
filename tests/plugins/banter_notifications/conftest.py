"""A real SMTP server on loopback (aiosmtpd), and the app with coins, gifting and
notifications mailing to it, with a host user directory.

``deliver_webhooks(app)`` is the one place where "the webhooks the sandbox raised have
been applied"; ``send_mail(registry)`` runs the outbox's delivery job until nothing is
due, as a worker would.
"""

from __future__ import annotations

import socket
import threading
import time
from email import message_from_bytes, policy

import pytest
import webtest
from aiosmtpd.controller import Controller
from pyramid.config import Configurator

from banter_payments.users import UserInfo

PREFIX = "/api/payments"

USERS = {
    "alice": UserInfo("alice", name="Alice", email="alice@example.com", locale="en_IN"),
    "bob": UserInfo("bob", name="Bob", email="bob@example.com", locale="en_IN"),
    "nomail": UserInfo("nomail", name="No Mail"),
    # Header injection through the directory: newlines and a very long name.
    "mallory": UserInfo("mallory", name="Mal\r\nBcc: evil@evil.test\r\nSubject: pwned"
                        + "x" * 5000, email="mallory@example.com"),
    "eve": UserInfo("eve", name="Eve\nBcc: evil@evil.test", email="eve@example.com"),
}


def directory(request, user_id):
    if user_id == "crash":
        raise RuntimeError("the host's user service is down")
    return USERS.get(user_id, True)


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


class Inbox:
    """What the SMTP server received: parsed messages, with their envelopes."""

    def __init__(self) -> None:
        self.lock = threading.Lock()
        self.messages: list = []
        self.envelopes: list[tuple[str, list[str]]] = []

    async def handle_DATA(self, server, session, envelope):  # noqa: N802 - aiosmtpd's name
        with self.lock:
            self.envelopes.append((envelope.mail_from, list(envelope.rcpt_tos)))
            self.messages.append(message_from_bytes(envelope.original_content,
                                                    policy=policy.default))
        return "250 OK"


class SmtpServer:
    def __init__(self) -> None:
        self.port = free_port()
        self.inbox = Inbox()
        self.controller: Controller | None = None

    def up(self) -> None:
        self.controller = Controller(self.inbox, hostname="127.0.0.1", port=self.port)
        self.controller.start()

    def down(self) -> None:
        if self.controller is not None:
            self.controller.stop()
            self.controller = None

    @property
    def messages(self) -> list:
        with self.inbox.lock:
            return list(self.inbox.messages)


@pytest.fixture
def smtp():
    server = SmtpServer()
    server.up()
    yield server
    server.down()


@pytest.fixture
def settings(settings, smtp):
    settings.update({
        "banter_payments.plugins": "banter_coins\nbanter_gifting\nbanter_notifications",
        "gifting.policy": "allow_all",
        "ratelimit.enabled": "false",
        "notifications.mailer": "smtp",
        "notifications.smtp_host": "127.0.0.1",
        "notifications.smtp_port": str(smtp.port),
        "notifications.sender": "Banter <receipts@banter.test>",
        "notifications.reply_to": "help@banter.test",
        "notifications.frontend_url": "https://app.banter.test/",
        "outbox.retry_base_seconds": "0.05",
        "outbox.retry_max_seconds": "0.2",
        "worker.reconcile_interval_seconds": "0",
    })
    return settings


@pytest.fixture
def configure():
    """What a test module's host app adds to its configuration (nothing by default)."""
    return None


@pytest.fixture
def app(settings, configure):
    with Configurator(settings=settings) as config:
        config.include("banter_payments")
        config.set_user_directory(directory)
        if configure is not None:
            configure(config)
    return config.make_wsgi_app()


@pytest.fixture
def fund(dbsession):
    """``fund("alice", 500)``: grant coins and commit."""
    from banter_payments.ledger.services import LedgerService

    ledger = LedgerService(dbsession)
    counter = iter(range(1, 1_000_000))

    def fund(user_id: str, coins: int) -> None:
        ledger.grant(user_id, {"coins": coins}, f"order:test-{next(counter)}", "Purchase")
        dbsession.commit()

    return fund


@pytest.fixture
def testapp(app) -> webtest.TestApp:
    return webtest.TestApp(app, extra_environ={"HTTP_HOST": "localhost:80"})


def deliver_webhooks(app) -> int:
    """Apply every webhook the sandbox has queued (through the app's webhook route, then
    its inbox drained)."""
    from tests.common.inbox import flush_webhooks

    return flush_webhooks(app, app=app)


def send_mail(registry, *, rounds: int = 20) -> int:
    """Run the outbox delivery job until nothing is claimed; how many were delivered."""
    from banter_payments.outbox.jobs import deliverer_for

    deliverer = deliverer_for(registry, "test-worker")
    delivered = 0
    for _ in range(rounds):
        report = deliverer.run_batch()
        delivered += report.delivered
        if report.claimed == 0:
            break
    return delivered


def wait_for_mail(smtp: SmtpServer, count: int, timeout: float = 5.0) -> list:
    deadline = time.monotonic() + timeout
    while len(smtp.messages) < count and time.monotonic() < deadline:
        time.sleep(0.02)
    return smtp.messages


def parts(message) -> tuple[str, str]:
    """(text, html) of a received multipart message."""
    text = message.get_body(preferencelist=("plain",)).get_content()
    html = message.get_body(preferencelist=("html",)).get_content()
    return text, html
