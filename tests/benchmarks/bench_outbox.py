"""Benchmark: the outbox's delivery rate, and what writing a message adds to a webhook.

1. **Cost of writing the message.** Two copies of the real app on one database, called
   in-process (WSGI, no server): one with no outbox endpoint (today's webhook path: no
   message is written), one with an endpoint that wants ``order.paid`` (every webhook
   also writes its message: the sequence upsert and the INSERT, in the same
   transaction). Each gets signed ``payment.captured`` events for distinct orders, in
   alternating rounds; the added cost is the difference of their medians, as a ratio of
   the webhook path. The time spent inside the outbox's subscriber is measured too, as
   a second reading of the same cost. Target: under 10%.
2. **Delivery rate.** ``--messages`` pending messages are delivered to a local receiver
   (loopback HTTP, answering 200 at once) by 1, then 2, ``banter-worker`` processes;
   messages/s is counted at the receiver, from its first request to its last.

It WIPES the database it is given (the schema is rebuilt by the migrations): a fresh
SQLite file by default; a PostgreSQL database only with ``--wipe``::

    python tests/benchmarks/bench_outbox.py
    python tests/benchmarks/bench_outbox.py --wipe \\
        --database-url postgresql+psycopg://postgres@127.0.0.1:5432/bench_outbox
"""

from __future__ import annotations

import argparse
import base64
import json
import os
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import sqlalchemy as sa

ROOT = Path(__file__).resolve().parents[2]
PREFIX = "/api/payments"
WEBHOOK_SECRET = "bench-webhook-secret-0123456789"
SECRET_ENV = "BENCH_OUTBOX_SECRET"
SECRET = "whsec_" + base64.b64encode(b"bench-outbox-secret-of-32-bytes!").decode()


def app_settings(url: str, endpoint_url: str | None) -> dict[str, str]:
    settings = {
        "sqlalchemy.url": url,
        "sandbox.database_url": url,
        "banter_payments.environment": "development",
        "banter_payments.plugins": "banter_coins",
        "razorpay.mode": "sandbox",
        "razorpay.webhook_secrets": WEBHOOK_SECRET,
        "sandbox.worker": "false",
        "ratelimit.enabled": "false",
        "worker.reconcile_interval_seconds": "0",
        "outbox.batch_size": "100",
    }
    if endpoint_url:
        settings["outbox.endpoints"] = f"bench {endpoint_url} {SECRET_ENV} order.paid"
    return settings


def reset(url: str, wipe: bool) -> None:
    from alembic import command
    from alembic.config import Config

    if url.startswith("postgresql"):
        if not wipe:
            raise SystemExit("refusing to wipe a PostgreSQL database without --wipe")
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
    """``count`` open orders and a signed payment.captured for each."""
    from banter_payments.clock import utcnow
    from banter_payments.ids import new_id
    from banter_payments.orders.models import Order
    from banter_payments.webhooks.signatures import sign

    now = utcnow()
    rows, events = [], []
    for number in range(count):
        razorpay_order_id = f"order_{tag}{number:07d}"
        rows.append({
            "id": new_id("ord"), "user_id": f"user-{tag}-{number}", "created_by": "bench",
            "sku": "coins.popular", "amount": 44900, "currency": "INR", "status": "created",
            "razorpay_order_id": razorpay_order_id, "grants": {"coins": 600},
            "entitlements": [], "title": "Popular Pack", "metadata": {"n": number},
            "customer": {}, "refunded_amount": 0, "refund_status": "none",
            "attempt_count": 1, "created_at": now, "updated_at": now,
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
    engine = sa.create_engine(url)
    with engine.begin() as conn:
        conn.execute(Order.__table__.insert(), rows)
    engine.dispose()
    return events


class Receiver:
    """Answers 200 at once and notes when each delivery arrived."""

    def __init__(self) -> None:
        self.times: list[float] = []
        self.lock = threading.Lock()
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"
            disable_nagle_algorithm = True

            def log_message(self, *args):
                pass

            def do_POST(self):  # noqa: N802
                self.rfile.read(int(self.headers.get("Content-Length", 0)))
                with receiver.lock:
                    receiver.times.append(time.perf_counter())
                self.send_response(200)
                self.send_header("Content-Length", "2")
                self.end_headers()
                self.wfile.write(b"{}")

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.server.daemon_threads = True
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.server.server_port}/hooks"


# 1. the cost of writing the message ------------------------------------------------------

def post_webhooks(app, events) -> float:
    """Seconds per webhook, each answered 200."""
    import webtest

    client = webtest.TestApp(app, extra_environ={"HTTP_HOST": "localhost:80"})
    started = time.perf_counter()
    for body, signature, event_id in events:
        client.post(f"{PREFIX}/webhooks/razorpay", body, headers={
            "Content-Type": "application/json", "X-Razorpay-Signature": signature,
            "X-Razorpay-Event-Id": event_id}, status=200)
    return (time.perf_counter() - started) / len(events)


def measure_write_cost(url: str, receiver_url: str, per_round: int, rounds: int) -> dict:
    import banter_payments.outbox.subscribers as subscribers
    from banter_payments import main

    spent = [0.0]
    publish = subscribers.publish_event

    def timed(event):
        started = time.perf_counter()
        publish(event)
        spent[0] += time.perf_counter() - started

    plain = main({}, **app_settings(url, None))
    subscribers.publish_event = timed
    try:
        with_outbox = main({}, **app_settings(url, receiver_url))
    finally:
        subscribers.publish_event = publish
    warm = seed(url, 50, "w")
    post_webhooks(plain, warm[:25])
    post_webhooks(with_outbox, warm[25:])
    spent[0] = 0.0
    without, with_, counted = [], [], 0
    for number in range(rounds):
        events = seed(url, per_round * 2, f"r{number}x")
        first, second = events[:per_round], events[per_round:]
        if number % 2:
            with_.append(post_webhooks(with_outbox, first))
            without.append(post_webhooks(plain, second))
        else:
            without.append(post_webhooks(plain, first))
            with_.append(post_webhooks(with_outbox, second))
        counted += per_round
    base, more = statistics.median(without), statistics.median(with_)
    inside = spent[0] / counted
    return {
        "webhook_ms_without_outbox": round(base * 1000, 3),
        "webhook_ms_with_outbox": round(more * 1000, 3),
        "added_ratio_end_to_end": round((more - base) / base, 4),
        "outbox_subscriber_ms": round(inside * 1000, 3),
        "added_ratio_in_subscriber": round(inside / base, 4),
    }


# 2. the delivery rate --------------------------------------------------------------------

def write_ini(path: Path, settings: dict[str, str]) -> str:
    lines = ["[app:main]", "use = egg:banter-payments"]
    lines += [f"{name} = {value}" for name, value in settings.items()]
    path.write_text("\n".join(lines) + "\n")
    return str(path)


def fill_outbox(url: str, receiver_url: str, count: int) -> None:
    """``count`` pending messages (everything else in the outbox is removed)."""
    from banter_payments import main
    from banter_payments.outbox.interfaces import IOutbox

    app = main({}, **app_settings(url, receiver_url))
    outbox = app.registry.getUtility(IOutbox)
    writer, _reader = app.registry["banter_payments.session_factories"]
    with writer() as session, session.begin():
        session.execute(sa.text("DELETE FROM outbox_messages"))
    for start in range(0, count, 500):
        with writer() as session, session.begin():
            for number in range(start, min(count, start + 500)):
                outbox.publish(session, "order.paid", aggregate_type="order",
                               aggregate_id=f"ord_bench{number}",
                               data={"orderId": f"ord_bench{number}", "amount": 44900})


def measure_delivery(url: str, count: int, workers: int, tmp: Path) -> dict:
    receiver = Receiver()
    fill_outbox(url, receiver.url, count)
    ini = write_ini(tmp / f"bench-{workers}.ini", app_settings(url, receiver.url))
    started = time.perf_counter()
    processes = [subprocess.Popen(
        [sys.executable, "-m", "banter_payments.scripts.worker", ini, "run", "--jobs",
         "outbox.deliver", "--once"], stdout=subprocess.DEVNULL, env=dict(os.environ))
        for _ in range(workers)]
    for process in processes:
        process.wait()
    wall = time.perf_counter() - started
    receiver.server.shutdown()
    times = sorted(receiver.times)
    engine = sa.create_engine(url)
    with engine.connect() as conn:
        delivered = conn.execute(sa.text(
            "SELECT count(*) FROM outbox_messages WHERE status = 'delivered'")).scalar()
    engine.dispose()
    if delivered != count or len(times) != count:
        raise SystemExit(f"{workers} worker(s): {delivered} delivered, {len(times)} "
                         f"received, of {count}")
    span = times[-1] - times[0]
    return {"workers": workers, "messages": count,
            "messages_per_second": round((count - 1) / span, 1),
            "wall_seconds_with_start_up": round(wall, 2)}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--database-url", help="default: a fresh SQLite file")
    parser.add_argument("--wipe", action="store_true",
                        help="allow wiping the PostgreSQL database given")
    parser.add_argument("--webhooks", type=int, default=150, help="webhooks per round")
    parser.add_argument("--rounds", type=int, default=6)
    parser.add_argument("--messages", type=int, default=2000)
    args = parser.parse_args(argv)
    os.environ[SECRET_ENV] = SECRET
    with tempfile.TemporaryDirectory() as tmp:
        url = args.database_url or f"sqlite:///{Path(tmp) / 'bench.sqlite'}"
        reset(url, args.wipe)
        results = {"database": sa.engine.make_url(url).get_backend_name()}
        receiver = Receiver()
        results["write_cost"] = measure_write_cost(url, receiver.url, args.webhooks,
                                                   args.rounds)
        receiver.server.shutdown()
        results["delivery"] = [measure_delivery(url, args.messages, workers, Path(tmp))
                               for workers in (1, 2)]
    print(json.dumps(results, indent=2))
    return 0


if __name__ == "__main__":
    sys.exit(main())
