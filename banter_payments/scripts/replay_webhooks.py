"""``banter-replay-webhooks production.ini``: process failed webhook events again.

With no options it replays every event whose last processing failed (oldest first); with
``--delivery whd_...`` (repeatable) it replays those stored deliveries whatever their
outcome. Each replay is its own transaction and is recorded as a new delivery with
``source = replay``. Prints one line per replay; exits 1 if any of them failed.
"""

from __future__ import annotations

import argparse
import sys

from pyramid.paster import bootstrap, setup_logging

from ..jobs import Job
from ..webhooks.services import replay_deliveries, replay_failed_events


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="banter-replay-webhooks",
        description="Replay failed (or chosen) stored webhook deliveries.",
    )
    parser.add_argument("config_uri", help="the ini file, e.g. production.ini")
    parser.add_argument("--delivery", action="append", default=[], metavar="ID",
                        help="replay this stored delivery (repeatable)")
    parser.add_argument("--limit", type=int, default=100,
                        help="at most this many failed events (default 100)")
    args = parser.parse_args(argv)
    if args.limit < 1:
        parser.error("--limit must be at least 1")
    setup_logging(args.config_uri)
    with bootstrap(args.config_uri) as env, Job(env["registry"]) as job:
        if args.delivery:
            results = replay_deliveries(job, args.delivery)
        else:
            results = replay_failed_events(job, limit=args.limit)
    for result in results:
        line = f"{result.delivery_id or '-'} {result.outcome}"
        print(line + (f": {result.error}" if result.error else ""))
    print(f"replayed {len(results)} deliveries")
    return 1 if any(r.outcome in ("failed", "rejected", "error") for r in results) else 0


if __name__ == "__main__":
    sys.exit(main())
