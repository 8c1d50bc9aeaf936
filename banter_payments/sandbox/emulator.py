"""The emulator as a WSGI application of its own.

It has its own Configurator, registry, engine and sessions, so it can be mounted inside
the app (``includeme`` in this package), served alone (``banter-sandbox``), or called
in-process by the SDK through ``banter_payments.gateway.transport``, and in every case
it shares nothing with the app but HTTP and the webhook secret, as Razorpay would.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from pyramid.config import Configurator
from pyramid.exceptions import ConfigurationError
from pyramid.router import Router

from . import views
from .config import SERVICE_KEY, SandboxConfig
from .faults import FaultPlanError, Faults, plan_from_settings
from .services import SandboxService
from .worker import service_of, worker_for


def make_emulator(settings: Mapping[str, Any]) -> Router:
    """Build the Razorpay emulator from settings (see ``SandboxConfig`` for the names).

    With ``sandbox.worker`` on, a transaction that queues webhooks wakes this
    database's delivery worker (started on first use); with it off, nothing is ever
    delivered until someone calls ``flush_webhooks`` or ``deliver_due``.
    """
    config_values = SandboxConfig.from_settings(settings)
    try:
        plan = plan_from_settings(config_values.fault_settings, views.endpoint_names())
    except FaultPlanError as exc:
        raise ConfigurationError(f"setting {exc}") from None
    service = SandboxService(config_values)
    service.faults = Faults(plan, service.random.random)
    if service.config.worker:
        service.on_enqueue = lambda: worker_for(service).wake()
    config = Configurator()
    config.registry[SERVICE_KEY] = service
    config.include(views.includeme)
    config.include("banter_payments.sandbox.checkout")
    config.include("banter_payments.sandbox.subscriptions")
    return config.make_wsgi_app()


def emulator_service(app: Any) -> SandboxService:
    """The state behind an emulator app (or behind the app that mounts one)."""
    return service_of(app)
