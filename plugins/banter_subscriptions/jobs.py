"""The subscription check job, for the worker runtime (``config.add_worker_job``) and for
the one-shot ``banter-check-subscriptions`` script alike.

It asks Razorpay about every subscription whose paid cycle has ended (a charge we have
not heard of, a halt, a pause or resume, a cancellation whose webhook was lost) and
about those still waiting for their first charge, and applies what it says through the
same state machine as webhooks. Several workers may run it at once: each claims a few
subscriptions in a short transaction (``FOR UPDATE SKIP LOCKED``, then ``check_after``
moved on by ``subscriptions.recheck_seconds``), asks the gateway with no lock held, and
applies each answer in a transaction of its own with that subscription's row locked.
Premium itself needs no job to lapse: it ends at ``premium_until``; the report lists
those that have.
"""

from __future__ import annotations

import datetime as dt
import logging
from collections.abc import Callable

from banter_payments.clock import utcnow
from banter_payments.errors import GatewayError
from banter_payments.gateway.interfaces import IPaymentGateway
from banter_payments.jobs import Job
from banter_payments.worker.jobs import JobContext

from .interfaces import ISubscriptionService
from .services import CheckReport

log = logging.getLogger(__name__)

BATCH = 20


def check_subscriptions(job: Job, now: dt.datetime | None = None, *,
                        stopping: Callable[[], bool] = lambda: False) -> CheckReport:
    """One pass: claim, ask, apply, until nothing is due (or the worker stops)."""
    now = now or utcnow()
    report = CheckReport()
    while not stopping():
        with job.tm:
            claimed = job.find_service(ISubscriptionService).claim_due(now, BATCH)
        if not claimed:
            break
        for sub_id, razorpay_id, recorded in claimed:
            if stopping():
                break  # the rest are asked about once their claim runs out
            report.checked += 1
            try:
                gateway = job.find_service(IPaymentGateway)
                remote = gateway.fetch_subscription(razorpay_id)
                paid = remote.get("paid_count")
                invoices = (gateway.fetch_subscription_invoices(razorpay_id)
                            if isinstance(paid, int) and paid > recorded else [])
                with job.tm:
                    changed, lapsed = job.find_service(ISubscriptionService).apply_check(
                        sub_id, remote, invoices, now)
            except GatewayError as exc:
                report.errors.append(f"{sub_id}: {exc.message}")
                continue
            report.changed += changed
            if lapsed:
                report.lapsed.append(sub_id)
    return report


def run_check(context: JobContext) -> int:
    """The worker job ``subscriptions.check``."""
    with Job(context.registry) as job:
        report = check_subscriptions(job, stopping=lambda: context.stopping)
    if report.changed or report.errors:
        log.info("subscription check: %s", report.to_json())
    return report.changed
