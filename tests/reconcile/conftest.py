"""The app with a fake gateway, and ``reconcile(...)`` to run the job (a ``Job``: no request)."""

from __future__ import annotations

import pytest

from banter_payments.jobs import Job
from banter_payments.reconcile.interfaces import IReconcileService


@pytest.fixture
def app(settings, kit, gateway):
    return kit.make_app(settings, gateway)


@pytest.fixture
def reconcile(registry):
    def run(**kwargs):
        with Job(registry) as job:
            return job.find_service(IReconcileService).reconcile_orders(**kwargs)

    return run
