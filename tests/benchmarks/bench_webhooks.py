"""Benchmark: webhook ingestion throughput, against a floor on the same stack.

Serves, one after the other, two WSGI apps with waitress on loopback (each in its own
process, so the load generator does not share their interpreter) over the same
PostgreSQL (or MariaDB) database, and sends each of them signed ``payment.captured`` events for
distinct orders from 16 concurrent connections:

- **app**: the real app (``banter_payments.main``, every tween included). Each event is
  verified, recorded and queued in the inbox (what Razorpay waits for); after the run the
  inbox is drained in-process, where each event is applied by the state machine and
  fulfils its order with a 600-coin ledger grant (``bench_inbox.py`` measures that part,
  with a worker, against the same floor).
- **floor**: Pyramid + pyramid_tm + the same session setup (``banter_payments.db``) with
  one view that verifies the HMAC over the raw body and inserts one delivery row. No web
  framework app can ingest a signed webhook durably for much less.

It prints events/s for both, their ratio, and p50/p99 latency, and checks that every
event fulfilled exactly one order. ``--profile`` then feeds events to the app in-process
under cProfile and prints where the time goes.

Where the time goes (``--profile`` shows it for the machine at hand): almost all of it is
per SQL statement (SQLAlchemy's execution path plus a loopback round trip), so the cost of
an event is its statement count. The floor runs one INSERT; the app's acknowledgement runs
two (the claim, the delivery) and a NOTIFY, and the worker then runs about 12 more: the
savepoint pair around the handlers, the state machine (SELECT order, INSERT payment,
conditional UPDATE order), and the ledger grant (its savepoint pair, accounts, posting,
balance, entries), the largest share.

It WIPES the database it is given (the schema is rebuilt by the migrations), so it only
runs against a database whose name contains "bench"::

    python tests/benchmarks/bench_webhooks.py \\
        --database-url postgresql+psycopg://postgres@127.0.0.1:5432/bench_webhooks
    python tests/benchmarks/bench_webhooks.py \\
        --database-url mysql+pymysql://root@127.0.0.1:3306/bench_webhooks
"""

from __future__ import annotations

import argparse
import collections
import cProfile
import http.client
import io
import json
import pstats
import statistics
import subprocess
import sys
import threading
import time
from pathlib import Path

import sqlalchemy as sa
from servers import serve_wsgi, start_server

ROOT = Path(__file__).resolve().parents[2]
PREFIX = "/api/payments"
PATH = f"{PREFIX}/webhooks/razorpay"
WEBHOOK_SECRET = "bench-webhook-secret-0123456789"


def app_settings(url: str) -> dict[str, str]:
    return {
        "sqlalchemy.url": url,
        "sandbox.database_url": url,
        "banter_payments.environment": "development",
        "banter_payments.plugins": "banter_coins",
        "razorpay.mode": "sandbox",
        "razorpay.webhook_secrets": WEBHOOK_SECRET,
        "sandbox.worker": "false",
    }


# The floor -----------------------------------------------------------------------------

def floor_app(settings: dict[str, str]):
    """Pyramid + pyramid_tm + the app's session setup; verify the HMAC, insert one row."""
    from pyramid.config import Configurator
    from pyramid.response import Response

    from banter_payments.db import write
    from banter_payments.ids import new_id
    from banter_payments.settings import parse_settings
    from banter_payments.webhooks.models import WebhookDelivery
    from banter_payments.webhooks.signatures import signature_matches

    deliveries = WebhookDelivery.__table__

    def ingest(request):
        secrets = request.registry.settings["razorpay.webhook_secrets"]
        if not signature_matches(request.body, request.headers.get("X-Razorpay-Signature"),
                                 secrets):
            return Response(status=400)
        write(request.dbsession, deliveries.insert().values(
            id=new_id("whd"), event_id=request.headers.get("X-Razorpay-Event-Id"),
            headers={}, body=request.body, outcome="processed", source="razorpay"))
        return Response(json_body={"status": "processed"})

    with Configurator(settings=parse_settings(settings)) as config:
        config.include("pyramid_tm")
        config.include("pyramid_retry")
        config.include("banter_payments.db")
        config.add_route("floor", PATH)
        config.add_view(ingest, route_name="floor", request_method="POST")
    return config.make_wsgi_app()


# Data ------------------------------------------------------------------------------------

def reset(url: str) -> None:
    from alembic import command
    from alembic.config import Config

    database = sa.engine.make_url(url).database or ""
    if "bench" not in database:
        raise SystemExit(f"refusing to wipe {database!r}: its name must contain 'bench'")
    if url.startswith("mysql"):
        from banter_payments.db import make_engine

        engine = make_engine(sa.engine.make_url(url).set(database="mysql")
                             .render_as_string(hide_password=False))
        with engine.begin() as conn:
            conn.exec_driver_sql(f"DROP DATABASE IF EXISTS `{database}`")
            conn.exec_driver_sql(f"CREATE DATABASE `{database}` "
                                 "CHARACTER SET utf8mb4 COLLATE utf8mb4_bin")
        engine.dispose()
    else:
        engine = sa.create_engine(url)
        with engine.begin() as conn:
            conn.exec_driver_sql("DROP SCHEMA IF EXISTS public CASCADE")
            conn.exec_driver_sql("CREATE SCHEMA public")
        engine.dispose()
    config = Config()
    config.set_main_option("script_location", str(ROOT / "migrations"))
    config.cmd_opts = type("Options", (), {"x": [f"url={url}"]})()
    command.upgrade(config, "head")


def seed(url: str, count: int, tag: str) -> list[tuple[bytes, str, str]]:
    """``count`` open orders of distinct users, and a signed payment.captured for each:
    [(body, signature, event id)]."""
    from banter_payments.clock import utcnow
    from banter_payments.db import make_engine
    from banter_payments.ids import new_id
    from banter_payments.orders.models import Order
    from banter_payments.webhooks.signatures import sign

    now = utcnow()
    rows, events = [], []
    for number in range(count):
        order_id, razorpay_order_id = new_id("ord"), f"order_{tag}{number:07d}"
        rows.append({
            "id": order_id, "user_id": f"user-{tag}-{number}", "created_by": "bench",
            "sku": "coins.popular", "amount": 44900, "currency": "INR", "status": "created",
            "razorpay_order_id": razorpay_order_id, "grants": {"coins": 600},
            "entitlements": [], "title": "Popular Pack", "metadata": {}, "customer": {},
            "refunded_amount": 0, "refund_status": "none", "attempt_count": 1,
            "created_at": now, "updated_at": now,
        })
        payment = {
            "id": f"pay_{tag}{number:07d}", "entity": "payment", "amount": 44900,
            "currency": "INR", "status": "captured", "order_id": razorpay_order_id,
            "invoice_id": None, "international": False, "method": "upi",
            "amount_refunded": 0, "refund_status": None, "captured": True,
            "description": None, "vpa": "success@razorpay", "email": "a@example.com",
            "contact": "+919999999999", "notes": [], "fee": 1062, "tax": 162,
            "error_code": None, "error_description": None, "created_at": 1_700_000_000,
        }
        body = json.dumps({
            "entity": "event", "account_id": "acc_bench", "event": "payment.captured",
            "contains": ["payment"], "payload": {"payment": {"entity": payment}},
            "created_at": 1_700_000_000,
        }, separators=(",", ":")).encode()
        events.append((body, sign(body, WEBHOOK_SECRET), f"evt_{tag}{number:07d}"))
    engine = make_engine(url)
    with engine.begin() as conn:
        conn.execute(Order.__table__.insert(), rows)
    engine.dispose()
    return events


# Serving and load ------------------------------------------------------------------------

def serve(kind: str, url: str, threads: int) -> None:
    """The server process: ``bench_webhooks.py --serve app|floor``."""
    from banter_payments import main

    settings = app_settings(url)
    serve_wsgi(main({}, **settings) if kind == "app" else floor_app(settings), threads)


def start(kind: str, url: str, threads: int) -> tuple[subprocess.Popen, int]:
    return start_server(__file__, kind, url, threads)


def load(port: int, events: list[tuple[bytes, str, str]],
         concurrency: int) -> tuple[float, list[float], dict[int, int]]:
    """Send every event once over ``concurrency`` keep-alive connections."""
    latencies: list[float] = []
    statuses: dict[int, int] = {}
    lock = threading.Lock()
    position = iter(range(len(events)))
    barrier = threading.Barrier(concurrency + 1)

    def worker():
        conn = http.client.HTTPConnection("127.0.0.1", port, timeout=60)
        mine, codes = [], {}
        barrier.wait()
        while True:
            with lock:
                index = next(position, None)
            if index is None:
                break
            body, signature, event_id = events[index]
            started = time.perf_counter()
            conn.request("POST", PATH, body=body, headers={
                "Content-Type": "application/json", "X-Razorpay-Signature": signature,
                "X-Razorpay-Event-Id": event_id})
            response = conn.getresponse()
            response.read()
            mine.append(time.perf_counter() - started)
            codes[response.status] = codes.get(response.status, 0) + 1
        conn.close()
        with lock:
            latencies.extend(mine)
            for code, number in codes.items():
                statuses[code] = statuses.get(code, 0) + number

    threads = [threading.Thread(target=worker) for _ in range(concurrency)]
    for thread in threads:
        thread.start()
    barrier.wait()
    started = time.perf_counter()
    for thread in threads:
        thread.join()
    return time.perf_counter() - started, latencies, statuses


def measure(kind: str, url: str, args, events, warmup) -> dict:
    process, port = start(kind, url, args.threads)
    try:
        load(port, warmup, args.concurrency)
        elapsed, latencies, statuses = load(port, events, args.concurrency)
    finally:
        process.terminate()
        process.wait(timeout=30)
    if statuses != {200: len(events)}:
        raise SystemExit(f"{kind}: not every event was answered 200: {statuses}")
    latencies.sort()
    return {
        "events_per_second": len(events) / elapsed,
        "p50_ms": statistics.median(latencies) * 1000,
        "p99_ms": latencies[int(len(latencies) * 0.99) - 1] * 1000,
    }


def drain_inbox(url: str) -> None:
    """Process every queued event in-process (the app only acknowledged them)."""
    from banter_payments import main
    from banter_payments.webhooks.inbox import drain

    drain(main({}, **app_settings(url)).registry)


def check_fulfilled(url: str, expected: int) -> None:
    from banter_payments.db import make_engine

    engine = make_engine(url)
    with engine.connect() as conn:
        paid = conn.execute(sa.text("SELECT count(*) FROM orders WHERE status = 'paid' "
                                    "AND fulfilled_at IS NOT NULL")).scalar()
        grants = conn.execute(sa.text("SELECT count(*) FROM ledger_postings "
                                      "WHERE reference LIKE 'order:%'")).scalar()
    engine.dispose()
    if (paid, grants) != (expected, expected):
        raise SystemExit(f"expected {expected} fulfilled orders and grants, got "
                         f"{paid} and {grants}")


# Profiling -------------------------------------------------------------------------------

def profile(url: str, events) -> None:
    """The app's own cost per event, in-process and sequential, under cProfile."""
    from webob import Request

    from banter_payments import main
    from banter_payments.webhooks.inbox import drain

    app = main({}, **app_settings(url))

    def send(event):
        body, signature, event_id = event
        request = Request.blank(PATH, method="POST", body=body, headers={
            "Content-Type": "application/json", "X-Razorpay-Signature": signature,
            "X-Razorpay-Event-Id": event_id})
        response = request.get_response(app)
        assert response.status_code == 200, response.body

    for event in events[:50]:
        send(event)
    drain(app.registry)
    statements: collections.Counter = collections.Counter()
    engine = app.registry["banter_payments.engine"]

    def count(conn, cursor, statement, parameters, context, executemany):
        statements[" ".join(statement.split()[:3])[:60]] += 1

    sa.event.listen(engine, "before_cursor_execute", count)
    send(events[50])
    sa.event.remove(engine, "before_cursor_execute", count)
    print(f"\nstatements for one event ({sum(statements.values())} round trips besides "
          f"BEGIN and COMMIT):")
    for statement, number in statements.most_common():
        print(f"  {number} x {statement}")
    events = events[51:]
    profiler = cProfile.Profile()
    started = time.perf_counter()
    profiler.enable()
    for event in events:
        send(event)
    profiler.disable()
    elapsed = time.perf_counter() - started
    print(f"\nprofile: {len(events)} events in-process, one at a time, under cProfile: "
          f"{elapsed / len(events) * 1000:.2f} ms each")
    out = io.StringIO()
    stats = pstats.Stats(profiler, stream=out)
    stats.sort_stats("cumulative").print_stats(r"banter_payments|pyramid_tm|zope|waitress", 30)
    stats.sort_stats("tottime").print_stats(20)
    print(out.getvalue())


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--database-url", required=True,
                        help="PostgreSQL or MariaDB, e.g. postgresql+psycopg://"
                             "postgres@127.0.0.1:5432/bench_webhooks (wiped)")
    parser.add_argument("--events", type=int, default=3000)
    parser.add_argument("--warmup", type=int, default=300)
    parser.add_argument("--concurrency", type=int, default=16)
    parser.add_argument("--threads", type=int, default=16, help="waitress threads")
    parser.add_argument("--profile", action="store_true")
    parser.add_argument("--serve", choices=("app", "floor"), help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.serve:
        serve(args.serve, args.database_url, args.threads)
        return 0
    url = args.database_url
    if not url.startswith(("postgresql", "mysql")):
        raise SystemExit("the benchmark runs on PostgreSQL or MariaDB")

    reset(url)
    floor_events = seed(url, args.events + args.warmup, "f")
    app_events = seed(url, args.events + args.warmup, "a")
    floor = measure("floor", url, args, floor_events[args.warmup:],
                    floor_events[:args.warmup])
    app = measure("app", url, args, app_events[args.warmup:], app_events[:args.warmup])
    drain_inbox(url)
    check_fulfilled(url, args.events + args.warmup)

    print(f"webhook ingestion, {args.events} events, concurrency {args.concurrency}, "
          f"waitress threads {args.threads}, "
          f"{'MariaDB' if url.startswith('mysql') else 'PostgreSQL'} on loopback")
    for name, result in (("floor", floor), ("app", app)):
        print(f"  {name:5}  {result['events_per_second']:8.1f} events/s   "
              f"p50 {result['p50_ms']:6.2f} ms   p99 {result['p99_ms']:6.2f} ms")
    print(f"  ratio app/floor: {app['events_per_second'] / floor['events_per_second']:.2f}")
    if args.profile:
        profile(url, seed(url, 1050, "p"))
    return 0


if __name__ == "__main__":
    sys.exit(main())
