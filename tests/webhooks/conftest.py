"""The app with a fake gateway, and ``deliver`` to post signed events to its webhook."""

from __future__ import annotations

import pytest

URL = "/api/payments/webhooks/razorpay"


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
