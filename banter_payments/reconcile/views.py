"""``POST /admin/reconcile``: run the reconcile job now."""

from __future__ import annotations

from typing import Any

from pyramid.request import Request
from pyramid.view import view_config

from .services import job_request, reconcile_orders


@view_config(route_name="payments.reconcile.run", request_method="POST", renderer="json",
             permission="admin")
def run_reconcile(request: Request) -> dict[str, Any]:
    """The job commits once per order, so it runs on a request of its own; this
    request's transaction is left untouched."""
    limit = request.validated_body["limit"] if request.body else None
    with job_request(request.registry, base_url=request.host_url) as job:
        if limit is None:
            report = reconcile_orders(job)
        else:
            report = reconcile_orders(job, batch_size=limit, max_batches=1)
    return report.to_json()
