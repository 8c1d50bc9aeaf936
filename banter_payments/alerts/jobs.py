"""The worker runtime's ``alerts.evaluate`` job: the same evaluation as ``banter-alerts``.

Every worker (and the app's in-process worker in development) runs it every
``alerts.interval_seconds``; running it in many workers at once is safe, since a change
of state is announced only by the evaluation that moved the alert's row.
"""

from __future__ import annotations

import logging

from ..jobs import Job
from ..worker.jobs import JobContext
from .interfaces import IAlertService

log = logging.getLogger(__name__)


def evaluate_alerts(context: JobContext) -> int:
    """The alerts that changed state (normally 0): the job's measure of work done."""
    with Job(context.registry) as job:
        changes = job.find_service(IAlertService).evaluate()
    for change in changes:
        log.info("alerts job (%s): %s is %s", context.worker, change["alert"],
                 change["state"])
    return len(changes)
