"""The app with a fake gateway, and ``deliver`` to post signed events to its webhook
and process them from the inbox."""

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
def deliver(testapp, kit, app, session_factory):
    """``deliver(body, event_id=..., status=200)``: a correctly signed delivery, then the
    inbox drained (``drain=False`` leaves it queued). The response gets ``outcome``: how
    its delivery ended (``processed``, ``duplicate``, ``ignored``, ``failed``,
    ``rejected``), and ``error``: the delivery's recorded error."""
    from banter_payments.webhooks.models import WebhookDelivery
    from tests.common.inbox import drain as drain_inbox

    def post(body: bytes, event_id: str | None = "evt_default", *, status: int = 200,
             headers: dict | None = None, secret: str | None = None, drain: bool = True):
        sent = kit.webhook_headers(body, event_id, **({"secret": secret} if secret else {}))
        sent.update(headers or {})
        response = testapp.post(URL, body, headers=sent, status=status)
        if response.status_int != 200:
            return response
        assert response.json["status"] in ("queued", "duplicate")
        if drain:
            drain_inbox(app)
        with session_factory() as session:
            stored = session.get(WebhookDelivery, response.json["deliveryId"])
            response.outcome, response.error = stored.outcome, stored.error
        return response

    return post
