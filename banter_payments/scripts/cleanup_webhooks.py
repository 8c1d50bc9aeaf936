"""``banter-cleanup-webhooks production.ini``: delete stored deliveries past their time.

Deliveries, their event rows and the counters of unsigned deliveries are kept
``webhooks.retention_days`` (at least 3; ``banter_payments.webhooks.retention`` says what
is kept longer and why). Run it daily from cron. It deletes in batches, each in its own
short transaction, so it can run beside the app. Prints what it removed as JSON.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import sys

from pyramid.paster import bootstrap, setup_logging

from ..clock import utcnow
from ..webhooks.retention import (
    delete_old_deliveries,
    delete_old_events,
    delete_old_refusals,
)


def cleanup(registry, *, now: dt.datetime | None = None,
            batch_size: int = 1000) -> dict[str, int]:
    """Delete what is older than the retention; returns how many of each."""
    writer, _ = registry["banter_payments.session_factories"]
    days = registry.settings["webhooks.retention_days"]
    cutoff = (now or utcnow()) - dt.timedelta(days=days)
    removed = {"deliveries": 0, "events": 0, "refusals": 0}
    for name, delete in (("deliveries", delete_old_deliveries),
                         ("events", delete_old_events)):
        while True:
            with writer() as session, session.begin():
                count = delete(session, cutoff=cutoff, batch_size=batch_size)
            removed[name] += count
            if count < batch_size:
                break
    with writer() as session, session.begin():
        removed["refusals"] = delete_old_refusals(session, cutoff=cutoff)
    return removed


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="banter-cleanup-webhooks",
        description="Delete stored webhook deliveries older than webhooks.retention_days.",
    )
    parser.add_argument("config_uri", help="the ini file, e.g. production.ini")
    parser.add_argument("--batch-size", type=int, default=1000)
    args = parser.parse_args(argv)
    if args.batch_size < 1:
        parser.error("--batch-size must be at least 1")
    setup_logging(args.config_uri)
    with bootstrap(args.config_uri) as env:
        removed = cleanup(env["registry"], batch_size=args.batch_size)
    print(json.dumps(removed))
    return 0


if __name__ == "__main__":
    sys.exit(main())
