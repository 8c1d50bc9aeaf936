"""The app with a fake gateway, and ``reconcile(...)`` to run the job on a job request."""

from __future__ import annotations

import pytest

from banter_payments.reconcile.services import job_request, reconcile_orders


@pytest.fixture
def app(settings, kit, gateway):
    return kit.make_app(settings, gateway)


@pytest.fixture
def reconcile(registry):
    def run(**kwargs):
        with job_request(registry) as request:
            return reconcile_orders(request, **kwargs)

    return run
