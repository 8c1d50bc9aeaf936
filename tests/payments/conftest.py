"""The app with a fake gateway, and a way to call the state machine directly.

The builders and ``FakeGateway`` live in ``tests.common.payment_kit`` (the root
conftest's ``kit`` fixture), shared with the webhook and reconcile tests.
"""

from __future__ import annotations

import pytest

from banter_payments.events import OrderPaid, PaymentFailed
from banter_payments.jobs import Job


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
    """``run(fn)``: ``fn(job)`` in one committed transaction of a job (no request)."""

    def call(fn):
        with Job(registry) as job, job.tm:
            return fn(job)

    return call
