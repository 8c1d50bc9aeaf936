"""``banter-check-subscriptions production.ini``: the subscription check job, for cron.

Asks Razorpay about every subscription whose paid cycle has ended (a charge we have not
heard of, a halt, a cancellation whose webhook was lost) and applies what it says
through the same state machine as webhooks, one subscription per transaction with its
row locked, so several copies may run. Premium itself needs no job to lapse: it ends at
``premium_until``; the report lists those that have. Prints JSON; exits 1 when some
could not be checked.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import sys

from pyramid.paster import bootstrap, setup_logging

from banter_payments.clock import utcnow
from banter_payments.errors import GatewayError
from banter_payments.jobs import Job

from .interfaces import ISubscriptionService
from .services import CheckReport


def check_subscriptions(job: Job, now: dt.datetime | None = None) -> CheckReport:
    """One pass of the check, one transaction per subscription."""
    now = now or utcnow()
    with job.tm:
        due = job.find_service(ISubscriptionService).due_for_check(now)
    report = CheckReport()
    for sub_id in due:
        report.checked += 1
        try:
            with job.tm:
                changed, lapsed = job.find_service(ISubscriptionService).check_one(
                    sub_id, now)
        except GatewayError as exc:
            report.errors.append(f"{sub_id}: {exc}")
            continue
        report.changed += changed
        if lapsed:
            report.lapsed.append(sub_id)
    return report


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="banter-check-subscriptions",
        description="Check ended subscription cycles with the payment gateway.")
    parser.add_argument("config_uri", help="the ini file, e.g. production.ini")
    args = parser.parse_args(argv)
    setup_logging(args.config_uri)
    with bootstrap(args.config_uri) as env, Job(env["registry"]) as job:
        report = check_subscriptions(job)
    print(json.dumps(report.to_json(), indent=2, sort_keys=True))
    return 1 if report.errors else 0


if __name__ == "__main__":
    sys.exit(main())
