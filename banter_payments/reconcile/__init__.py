"""Reconciliation: open orders are checked against the gateway and fed to the state
machine; the job runs from ``banter-reconcile <ini>`` or ``POST /admin/reconcile``."""

from .interfaces import IReconcileService
from .schemas import ReconcileBody
from .services import reconcile_service_factory


def includeme(config):
    config.register_service_factory(reconcile_service_factory, IReconcileService)
    config.add_route("payments.reconcile.run", "/admin/reconcile")
    config.add_api_operation(
        "payments.reconcile.run", "POST", tag="admin", permission="admin",
        body=ReconcileBody,
        summary="Ask the gateway about open orders older than "
                "orders.reconcile_after_seconds, apply what it says, expire stale ones",
        responses={200: "{checked, changed, paid, attempted, expired, anomalies, "
                        "refundsResumed, errors}",
                   400: "validation_failed", 401: "unauthenticated", 403: "forbidden"},
    )
    config.scan(".views")
