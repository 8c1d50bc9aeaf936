"""The app with a fake gateway, and a way to call the state machine directly.

The builders and ``FakeGateway`` live in ``tests.common.payment_kit`` (the root
conftest's ``kit`` fixture), shared with the webhook and reconcile tests.
"""

from __future__ import annotations

import pytest

from banter_payments.events import OrderPaid, PaymentFailed
from banter_payments.reconcile.services import job_request


@pytest.fixture
def announced() -> list:
    """Every OrderPaid / PaymentFailed emitted, in order."""
    return []


@pytest.fixture
def app(settings, kit, gateway, announced):
    app = kit.make_app(settings, gateway)
    app.registry.registerHandler(announced.append, (OrderPaid,))
    app.registry.registerHandler(announced.append, (PaymentFailed,))
    return app


@pytest.fixture
def run(registry):
    """``run(fn)``: ``fn(request)`` in one committed transaction of a job request."""

    def call(fn):
        with job_request(registry) as request, request.tm:
            return fn(request)

    return call
