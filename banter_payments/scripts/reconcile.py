"""``banter-reconcile production.ini``: check open orders against the gateway.

Finds orders still unpaid ``orders.reconcile_after_seconds`` after they were created, asks
Razorpay for their payments, applies what it finds through the same state machine as
verify and webhooks, and expires orders unpaid past ``orders.expire_after_seconds``. Run
it from cron (every few minutes); several copies may run at once (they lease different
orders). Prints what changed as JSON; exits 1 if some orders could not be checked.
"""

from __future__ import annotations

import argparse
import json
import sys

from pyramid.paster import bootstrap, setup_logging

from ..jobs import Job
from ..reconcile.interfaces import IReconcileService


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="banter-reconcile",
        description="Reconcile open orders with the payment gateway.",
    )
    parser.add_argument("config_uri", help="the ini file, e.g. production.ini")
    parser.add_argument("--batch-size", type=int, default=200,
                        help="orders claimed per batch (default 200)")
    args = parser.parse_args(argv)
    if args.batch_size < 1:
        parser.error("--batch-size must be at least 1")
    setup_logging(args.config_uri)
    with bootstrap(args.config_uri) as env, Job(env["registry"]) as job:
        report = job.find_service(IReconcileService).reconcile_orders(
            batch_size=args.batch_size)
    print(json.dumps(report.to_json(), indent=2, sort_keys=True))
    return 1 if report.errors else 0


if __name__ == "__main__":
    sys.exit(main())
