"""The app with a fake gateway, and ``deliver`` to post signed events to its webhook."""

from __future__ import annotations

import importlib.util
import sys
from pathlib import Path

import pytest

URL = "/api/payments/webhooks/razorpay"


def load_kit():
    name = "banter_tests_payment_kit"
    if name not in sys.modules:
        spec = importlib.util.spec_from_file_location(
            name, Path(__file__).resolve().parents[1] / "payments" / "payment_kit.py")
        module = importlib.util.module_from_spec(spec)
        sys.modules[name] = module
        spec.loader.exec_module(module)
    return sys.modules[name]


@pytest.fixture
def kit():
    return load_kit()


@pytest.fixture
def gateway(kit):
    return kit.FakeGateway()


@pytest.fixture
def configure():
    """Override to register a host app's own handlers: ``configure(config)``."""
    return None


@pytest.fixture
def app(settings, kit, gateway, configure):
    return kit.make_app(settings, gateway, configure)


@pytest.fixture
def deliver(testapp, kit):
    """``deliver(body, event_id=..., status=200)``: a correctly signed delivery."""

    def post(body: bytes, event_id: str | None = "evt_default", *, status: int = 200,
             headers: dict | None = None, secret: str | None = None):
        sent = kit.webhook_headers(body, event_id, **({"secret": secret} if secret else {}))
        sent.update(headers or {})
        return testapp.post(URL, body, headers=sent, status=status)

    return post
