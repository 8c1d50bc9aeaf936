"""Reconcile as a scheduled job of the worker (``worker.reconcile_interval_seconds``).

``banter-reconcile`` and cron keep working; several workers may run this at once, since
reconcile leases the orders it checks. The call into reconcile is this one function.
"""

from __future__ import annotations

import logging

from ..reconcile.services import job_request, reconcile_orders
from .jobs import JobContext

log = logging.getLogger(__name__)


def run_reconcile(context: JobContext) -> int:
    with job_request(context.registry) as request:
        report = reconcile_orders(request, worker=context.worker[:64])
    if report.changed or report.errors:
        log.info("reconcile job: %s", report.to_json())
    return report.changed
