"""``banter-cleanup-idempotency development.ini``: remove idempotency keys past their time.

Keys are kept ``idempotency.ttl_seconds`` (at least 24 hours); run this from cron (say
hourly). It deletes in batches, each in its own short transaction, so it never holds
many row locks and can run beside the app. Exits 0 and prints how many keys it removed.
"""

from __future__ import annotations

import argparse
import sys

from pyramid.paster import bootstrap, setup_logging

from ..clock import utcnow
from ..idempotency.services import delete_expired


def cleanup(registry, *, batch_size: int = 1000) -> int:
    """Delete every expired key; returns how many."""
    writer, _ = registry["banter_payments.session_factories"]
    now = utcnow()
    total = 0
    while True:
        with writer() as session, session.begin():
            removed = delete_expired(session, now=now, batch_size=batch_size)
        total += removed
        if removed < batch_size:
            return total


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="banter-cleanup-idempotency",
        description="Remove idempotency keys older than idempotency.ttl_seconds.",
    )
    parser.add_argument("config_uri", help="the ini file, e.g. production.ini")
    parser.add_argument("--batch-size", type=int, default=1000)
    args = parser.parse_args(argv)
    if args.batch_size < 1:
        parser.error("--batch-size must be at least 1")
    setup_logging(args.config_uri)
    with bootstrap(args.config_uri) as env:
        removed = cleanup(env["registry"], batch_size=args.batch_size)
    print(f"removed {removed} expired idempotency keys")
    return 0


if __name__ == "__main__":
    sys.exit(main())
