"""The app with a fake gateway, and ``reconcile(...)`` to run the job on a job request."""

from __future__ import annotations

import importlib.util
import sys
from pathlib import Path

import pytest

from banter_payments.reconcile.services import job_request, reconcile_orders


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
def app(settings, kit, gateway):
    return kit.make_app(settings, gateway)


@pytest.fixture
def reconcile(registry):
    def run(**kwargs):
        with job_request(registry) as request:
            return reconcile_orders(request, **kwargs)

    return run
