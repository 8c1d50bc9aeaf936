"""``banter-worker INI [command]``: run the background jobs, or act on the outbox.

    banter-worker production.ini                    run every job until SIGTERM/SIGINT
    banter-worker production.ini run --jobs outbox.deliver --once
    banter-worker production.ini retry-outbox --dead [--endpoint NAME] [--topic TOPIC]
    banter-worker production.ini retry-outbox --id obm_...
    banter-worker production.ini cleanup-outbox

Run as many copies as you like, on as many machines: jobs claim rows with ``FOR UPDATE
SKIP LOCKED`` and a lease. SIGTERM (or Ctrl-C) stops cleanly: the message being
delivered is finished and recorded, the rest of the batch is released for another
worker, and the process exits 0.
"""

from __future__ import annotations

import argparse
import json
import logging
import signal
import sys
import threading

from pyramid.paster import bootstrap, setup_logging

from ..worker import runner

log = logging.getLogger("banter_payments.worker")


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="banter-worker",
                                     description="Run banter-payments' background jobs.")
    parser.add_argument("config_uri", help="the ini file, e.g. production.ini")
    commands = parser.add_subparsers(dest="command")
    run = commands.add_parser("run", help="run the jobs (the default)")
    run.add_argument("--jobs", help="comma-separated job names (default: all)")
    run.add_argument("--once", action="store_true",
                     help="run each job once (drain jobs until idle) and exit")
    retry = commands.add_parser("retry-outbox", help="try dead outbox messages again")
    which = retry.add_mutually_exclusive_group(required=True)
    which.add_argument("--dead", action="store_true", help="every dead message")
    which.add_argument("--id", dest="message_id", help="one message, dead or pending")
    retry.add_argument("--endpoint", help="with --dead: only this endpoint's")
    retry.add_argument("--topic", help="with --dead: only this topic's")
    commands.add_parser("cleanup-outbox",
                        help="delete messages delivered before outbox.retention_days")
    return parser


def main(argv: list[str] | None = None) -> int:
    args = _parser().parse_args(argv)
    setup_logging(args.config_uri)
    runner.IN_WORKER_PROCESS = True
    with bootstrap(args.config_uri) as env:
        registry = env["registry"]
        if args.command == "retry-outbox":
            return _retry_outbox(registry, args)
        if args.command == "cleanup-outbox":
            return _cleanup_outbox(registry)
        jobs = [j.strip() for j in args.jobs.split(",") if j.strip()] \
            if getattr(args, "jobs", None) else None
        try:
            worker = runner.Worker(registry, jobs=jobs, name=runner.worker_name("process"))
        except ValueError as exc:
            print(f"banter-worker: {exc}", file=sys.stderr)
            return 2
        if getattr(args, "once", False):
            print(json.dumps(worker.run_once(), sort_keys=True))
            return 0
        _stop_on_signals(worker.request_stop)
        worker.run()
    return 0


def _stop_on_signals(stop) -> None:
    def handle(signum, _frame):
        log.info("worker: %s received, finishing what is in hand",
                 signal.Signals(signum).name)
        stop()

    signal.signal(signal.SIGTERM, handle)
    signal.signal(signal.SIGINT, handle)


def _retry_outbox(registry, args) -> int:
    from ..errors import APIError
    from ..outbox.services import retry_dead, retry_message

    writer, _reader = registry["banter_payments.session_factories"]
    with writer() as session, session.begin():
        if args.message_id:
            try:
                retry_message(session, args.message_id)
            except APIError as exc:
                print(f"banter-worker: {args.message_id}: {exc.message}", file=sys.stderr)
                return 1
            count = 1
        else:
            count = retry_dead(session, endpoint=args.endpoint, topic=args.topic)
    log.info("outbox: %d message(s) will be tried again", count)
    print(json.dumps({"retried": count}))
    return 0


def _cleanup_outbox(registry) -> int:
    from ..outbox.jobs import clean_outbox
    from ..worker.jobs import JobContext

    deleted = clean_outbox(JobContext(registry=registry, worker="cleanup",
                                      stop=threading.Event()))
    print(json.dumps({"deleted": deleted}))
    return 0


if __name__ == "__main__":
    sys.exit(main())
