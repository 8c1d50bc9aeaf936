"""``banter-alerts production.ini``: evaluate the alerts once; run it from cron.

Prints the alerts that changed state as JSON (an empty list most of the time). Each
change is announced once, however many copies run: the state is in the database.
"""

from __future__ import annotations

import argparse
import json
import sys

from pyramid.paster import bootstrap, setup_logging
from pyramid.request import Request

from .rules import evaluate_alerts


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="banter-alerts",
                                     description="Evaluate the payment alerts once.")
    parser.add_argument("config_uri", help="the ini file, e.g. production.ini")
    args = parser.parse_args(argv)
    setup_logging(args.config_uri)
    # A POST, so that the job's session is the writer (BEGIN IMMEDIATE on SQLite).
    with bootstrap(args.config_uri, request=Request.blank("/", method="POST")) as env:
        changes = evaluate_alerts(env["request"])
    print(json.dumps(changes, indent=2, sort_keys=True))
    return 0


if __name__ == "__main__":
    sys.exit(main())
