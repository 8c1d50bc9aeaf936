"""Reconcile as a scheduled job of the worker (``worker.reconcile_interval_seconds``).

``banter-reconcile`` and cron keep working; several workers may run this at once, since
reconcile leases the orders it checks. The job builds the same ``IReconcileService`` the
console script and the admin route use, on a ``Job`` (no request).
"""

from __future__ import annotations

import logging

from ..jobs import Job
from ..reconcile.interfaces import IReconcileService
from .jobs import JobContext

log = logging.getLogger(__name__)


def run_reconcile(context: JobContext) -> int:
    with Job(context.registry) as job:
        report = job.find_service(IReconcileService).reconcile_orders(
            worker=context.worker[:64])
    if report.changed or report.errors:
        log.info("reconcile job: %s", report.to_json())
    return report.changed
