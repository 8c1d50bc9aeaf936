"""``POST /admin/reconcile``: run the reconcile job now."""

from __future__ import annotations

from typing import Any

from pyramid.request import Request
from pyramid.view import view_config

from ..jobs import Job
from .interfaces import IReconcileService


@view_config(route_name="payments.reconcile.run", request_method="POST", renderer="json",
             permission="admin")
def run_reconcile(request: Request) -> dict[str, Any]:
    """The job commits once per order, so it runs as a job of its own, with its own
    session and transaction manager; this request's transaction is left untouched."""
    limit = request.validated_body["limit"] if request.body else None
    with Job(request.registry, host_url=request.host_url) as job:
        reconcile = job.find_service(IReconcileService)
        if limit is None:
            report = reconcile.reconcile_orders()
        else:
            report = reconcile.reconcile_orders(batch_size=limit, max_batches=1)
    return report.to_json()
