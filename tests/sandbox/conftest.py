"""Fixtures for the sandbox's own tests: an emulator on its own database, a webhook receiver.

Each test module gets a temporary SQLite file (or, in the PostgreSQL pass, the database
given with ``--database-url``) built by the project's migrations, and every sandbox table
is emptied after each test.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Iterator
from typing import Any

import pytest
import razorpay
import webtest
from sqlalchemy import delete, select

from banter_payments.db import make_engine
from banter_payments.gateway.transport import inprocess_session
from banter_payments.sandbox.emulator import emulator_service, make_emulator
from banter_payments.sandbox.models import SANDBOX_TABLES, SandboxWebhook
from banter_payments.sandbox.serve import migrate
from banter_payments.sandbox.worker import stop_workers
from banter_payments.settings import SANDBOX_KEY_ID, SANDBOX_KEY_SECRET

KEY = (SANDBOX_KEY_ID, SANDBOX_KEY_SECRET)
HOST = "shop.test:8080"
BASE_URL = f"http://{HOST}/api/payments/_sandbox/razorpay"
WEBHOOK_URL = f"http://{HOST}/api/payments/webhooks/razorpay"


@pytest.fixture(scope="module")
def sandbox_db(request, tmp_path_factory) -> str:
    """A database migrated to head: a fresh SQLite file, or the run's PostgreSQL database."""
    if request.config.getoption("--database-url"):
        url = request.getfixturevalue("database_url")
    else:
        url = f"sqlite:///{tmp_path_factory.mktemp('sandbox') / 'sandbox.sqlite'}"
    migrate(url)
    return url


@pytest.fixture(autouse=True)
def _empty_sandbox_tables(sandbox_db) -> Iterator[None]:
    yield
    stop_workers()
    engine = make_engine(sandbox_db)
    with engine.begin() as connection:
        for table in reversed(SANDBOX_TABLES):
            connection.execute(delete(table))
    engine.dispose()


@pytest.fixture
def emulator_settings(sandbox_db) -> dict[str, Any]:
    return {
        "sandbox.database_url": sandbox_db,
        "sandbox.worker": "false",
        "sandbox.random_seed": "7",
    }


@pytest.fixture
def make_app(emulator_settings) -> Iterator[Callable[..., Any]]:
    """``make_app({"sandbox.webhook_duplicates": "3"})`` → an emulator with those settings."""
    built = []

    def make(overrides: dict[str, Any] | None = None):
        app = make_emulator({**emulator_settings, **(overrides or {})})
        built.append(app)
        return app

    yield make
    for app in built:
        emulator_service(app).close()


@pytest.fixture
def emulator(make_app):
    return make_app()


def testapp_for(app) -> webtest.TestApp:
    """WebTest on an emulator, as the SDK would call it: basic auth, the shop's host."""
    testapp = webtest.TestApp(app, extra_environ={"HTTP_HOST": HOST})
    testapp.set_authorization(("Basic", KEY))
    return testapp


class Shop:
    """Shortcuts for arranging state through the emulator's own HTTP surface."""

    def __init__(self, testapp: webtest.TestApp) -> None:
        self.testapp = testapp

    def order(self, amount: int = 44900, **fields: Any) -> dict:
        body = {"amount": amount, "currency": "INR", "receipt": "rcpt_1", **fields}
        return self.testapp.post_json("/v1/orders", body).json

    def pay(self, order_id: str, **body: Any) -> dict:
        return self.testapp.post_json(f"/checkout/{order_id}/pay", body).json

    def payment(self, payment_id: str) -> dict:
        return self.testapp.get(f"/v1/payments/{payment_id}").json

    def captured(self, amount: int = 10000) -> dict:
        """A captured payment of ``amount`` (an auto-capture order paid by card)."""
        order = self.order(amount)
        return self.payment(self.pay(order["id"])["razorpay_payment_id"])

    def refund(
        self, payment_id: str, body: dict | None = None, key: str | None = None, status: int = 200
    ):
        headers = {"X-Refund-Idempotency": key} if key else {}
        return self.testapp.post_json(
            f"/v1/payments/{payment_id}/refund", body or {}, headers=headers, status=status
        ).json


@pytest.fixture
def emu(emulator) -> webtest.TestApp:
    return testapp_for(emulator)


@pytest.fixture
def shop(emu) -> Shop:
    return Shop(emu)


@pytest.fixture
def shop_for() -> Callable[[Any], Shop]:
    """``shop_for(app)``: a ``Shop`` on another emulator (one built with other settings)."""
    return lambda app: Shop(testapp_for(app))


def sdk_client(app, base_url: str = BASE_URL) -> razorpay.Client:
    """The real SDK, served in-process by ``app``."""
    return razorpay.Client(auth=KEY, base_url=base_url, session=inprocess_session(app, base_url))


@pytest.fixture
def rzp(emulator) -> razorpay.Client:
    return sdk_client(emulator)


@pytest.fixture
def client_for() -> Callable[..., razorpay.Client]:
    return sdk_client


@pytest.fixture
def outbox() -> Callable[[Any], list[SandboxWebhook]]:
    """``outbox(app)``: every outbox row of that emulator, in the order it was written."""

    def rows(app) -> list[SandboxWebhook]:
        service = emulator_service(app)
        with service.reader() as session:
            return list(session.scalars(select(SandboxWebhook).order_by(SandboxWebhook.id)))

    return rows


class Receiver:
    """A webhook endpoint that records every delivery and answers scripted statuses."""

    def __init__(self) -> None:
        self.calls: list[dict[str, Any]] = []
        self.statuses: list[int] = []
        self.delay = 0.0
        self._lock = threading.Lock()

    def __call__(self, environ, start_response):
        length = int(environ.get("CONTENT_LENGTH") or 0)
        body = environ["wsgi.input"].read(length)
        headers = {
            key[5:].replace("_", "-").title(): value
            for key, value in environ.items()
            if key.startswith("HTTP_")
        }
        headers["Content-Type"] = environ.get("CONTENT_TYPE", "")
        with self._lock:
            status = self.statuses.pop(0) if self.statuses else 200
        if self.delay:
            time.sleep(self.delay)
        with self._lock:
            self.calls.append({"path": environ["PATH_INFO"], "headers": headers, "body": body})
        start_response(f"{status} Scripted", [("Content-Type", "text/plain")])
        return [b"ok"]


@pytest.fixture
def receiver(serve) -> tuple[Receiver, str]:
    """(receiver, its webhook URL) on a real loopback port (the root conftest's ``serve``)."""
    app = Receiver()
    return app, f"{serve(app)}/hooks/razorpay"
