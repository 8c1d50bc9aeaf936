"""``banter-check-subscriptions production.ini``: one pass of the subscription check
job (``jobs.check_subscriptions``, which the worker runs every
``subscriptions.check_interval_seconds``), for cron or by hand. Prints JSON; exits 1
when some could not be checked.
"""

from __future__ import annotations

import argparse
import json
import sys

from pyramid.paster import bootstrap, setup_logging

from banter_payments.jobs import Job

from .jobs import check_subscriptions


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
