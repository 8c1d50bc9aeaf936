"""``banter-alerts production.ini``: evaluate the alerts once; run it from cron.

The same evaluation as the worker runtime's ``alerts.evaluate`` job (``IAlertService`` on
a ``Job``), for deployments that run no worker or set ``alerts.interval_seconds = 0``.
Prints the alerts that changed state as JSON (an empty list most of the time). Each
change is announced once, however many copies and workers run: the state is in the
database.
"""

from __future__ import annotations

import argparse
import json
import sys

from pyramid.paster import bootstrap, setup_logging

from ..jobs import Job
from ..worker import runner
from .interfaces import IAlertService


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="banter-alerts",
                                     description="Evaluate the payment alerts once.")
    parser.add_argument("config_uri", help="the ini file, e.g. production.ini")
    args = parser.parse_args(argv)
    setup_logging(args.config_uri)
    # A one-shot command: the app it loads must not start an in-process worker thread.
    before, runner.IN_WORKER_PROCESS = runner.IN_WORKER_PROCESS, True
    try:
        with bootstrap(args.config_uri) as env, Job(env["registry"]) as job:
            changes = job.find_service(IAlertService).evaluate()
    finally:
        runner.IN_WORKER_PROCESS = before
    print(json.dumps(changes, indent=2, sort_keys=True))
    return 0


if __name__ == "__main__":
    sys.exit(main())
