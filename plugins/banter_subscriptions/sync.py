"""``banter-sync-plans production.ini``: create at Razorpay every configured plan that
has no gateway plan at its current terms yet (what subscribing would do on first use),
and print each plan's ``plan_...`` id as JSON. Razorpay plans are immutable, so a plan
whose price changed gets a new gateway plan; subscribers stay on the old one.
"""

from __future__ import annotations

import argparse
import json
import sys

from pyramid.paster import bootstrap, setup_logging

from banter_payments.jobs import Job

from .directives import plans
from .interfaces import ISubscriptionService


def sync_plans(job: Job) -> dict[str, str]:
    """Each configured plan's Razorpay plan id, created where missing (one transaction
    per plan, so a failure keeps what was created before it)."""
    synced = {}
    for plan in sorted(plans(job.registry).values(), key=lambda plan: plan.id):
        with job.tm:
            gateway_plan = job.find_service(ISubscriptionService).gateway_plan(plan)
            synced[plan.id] = gateway_plan.razorpay_plan_id
    return synced


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="banter-sync-plans",
        description="Create the configured subscription plans at the payment gateway.")
    parser.add_argument("config_uri", help="the ini file, e.g. production.ini")
    args = parser.parse_args(argv)
    setup_logging(args.config_uri)
    with bootstrap(args.config_uri) as env, Job(env["registry"]) as job:
        synced = sync_plans(job)
    print(json.dumps(synced, indent=2, sort_keys=True))
    return 0


if __name__ == "__main__":
    sys.exit(main())
