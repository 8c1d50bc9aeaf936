"""Benchmark: the webhook inbox, against the floor app, in one run on one stack.

Every figure is a ratio to the floor app (``bench_webhooks.floor_app``: Pyramid,
pyramid_tm, the app's session setup, a view that verifies the HMAC and inserts one row)
measured in the same run, or a percentile. Each server is a waitress process of its own
on loopback; the inbox worker is a process of its own (``banter-worker``'s loop, only the
``webhooks.inbox`` job, woken by PostgreSQL NOTIFY); the load generator is this process.

1. **Acknowledgement throughput**: signed ``payment.captured`` events for distinct orders
   from 16 connections, to the floor and to the app with no worker running (the route
   only verifies, records and queues). Target: app/floor >= 0.7.
2. **End-to-end fulfilment**: the same load with one app process and one worker; events/s
   from the first request sent to the last order confirmed (its ``OrderPaid`` announced
   after the worker's commit). Target: >= 0.5 x the floor's events/s.
3. **Burst**: 2,000 events from 32 connections at once, one app, one worker: p99 of the
   acknowledgement, and p99 from a request's start to its order confirmed. Targets:
   < 250 ms and < 1 s.
4. **Steady 50 events/s** for ``--steady-seconds``: p50 from a request's start to its
   order confirmed. Target: < 50 ms.

Confirmation times are taken in the worker after each batch commits (``Committed`` for
``OrderPaid``) on the same clock as the sender's (``time.time()``, one machine); each run
also checks that every order was fulfilled exactly once.

It WIPES the database it is given (the schema is rebuilt by the migrations), so it only
runs against a database whose name contains "bench"::

    python tests/benchmarks/bench_inbox.py \\
        --database-url postgresql+psycopg://postgres@127.0.0.1:5432/bench_inbox
"""

from __future__ import annotations

import argparse
import http.client
import json
import os
import signal
import statistics
import subprocess
import sys
import tempfile
import threading
import time

import sqlalchemy as sa
from bench_webhooks import PATH, app_settings, floor_app, reset, seed
from servers import serve_wsgi, start_server


def settings_for(url: str) -> dict[str, str]:
    return dict(app_settings(url), **{
        "ratelimit.enabled": "false",
        "worker.reconcile_interval_seconds": "0",
        "worker.in_process": "false",
        "metrics.enabled": "false",
    })


# The processes ---------------------------------------------------------------------------

def serve(kind: str, url: str, threads: int) -> None:
    """``bench_inbox.py --serve app|floor``: a waitress server; prints its port."""
    from banter_payments import main

    settings = settings_for(url)
    serve_wsgi(main({}, **settings) if kind == "app" else floor_app(settings), threads)


def work(url: str, out: str) -> None:
    """``bench_inbox.py --work OUT``: the inbox job in a worker loop; on SIGTERM, writes
    {order id: time.time() of its confirmation} to OUT."""
    from banter_payments import main
    from banter_payments.events import Committed, OrderPaid
    from banter_payments.worker import runner

    runner.IN_WORKER_PROCESS = True
    app = main({}, **settings_for(url))
    confirmed: dict[str, float] = {}

    def on_commit(event):
        if isinstance(event.event, OrderPaid):
            confirmed[event.event.order.id] = time.time()

    app.registry.registerHandler(on_commit, (Committed,))
    worker = runner.Worker(app.registry, jobs=["webhooks.inbox"], name="bench")
    signal.signal(signal.SIGTERM, lambda *_: worker.request_stop())
    thread = worker.start_thread()
    print("worker ready" if worker.listening.wait(30) else "worker not listening",
          flush=True)
    thread.join()
    with open(out, "w") as handle:
        json.dump(confirmed, handle)


class WorkerProcess:
    def __init__(self, url: str):
        handle, self.out = tempfile.mkstemp(suffix=".json")
        os.close(handle)
        self.process = subprocess.Popen(
            [sys.executable, __file__, "--work", self.out, "--database-url", url],
            stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True,
            env=dict(os.environ, PYTHONUNBUFFERED="1"))
        if self.process.stdout.readline().strip() != "worker ready":
            self.process.kill()
            raise SystemExit("the worker did not start listening")

    def stop(self) -> dict[str, float]:
        self.process.send_signal(signal.SIGTERM)
        self.process.wait(timeout=120)
        with open(self.out) as handle:
            confirmed = json.load(handle)
        os.unlink(self.out)
        return confirmed


# Load ------------------------------------------------------------------------------------

def send_all(port: int, events, concurrency: int, *, rate: float | None = None):
    """Send every event once over ``concurrency`` keep-alive connections, as fast as
    they go or at ``rate`` events/s in all. Returns (elapsed, [(event index, time.time()
    at send, ack seconds)], {status: count})."""
    sent: list[tuple[int, float, float]] = []
    statuses: dict[int, int] = {}
    lock = threading.Lock()
    position = iter(range(len(events)))
    barrier = threading.Barrier(concurrency + 1)
    begin: list[float] = []

    def run():
        conn = http.client.HTTPConnection("127.0.0.1", port, timeout=60)
        mine, codes = [], {}
        barrier.wait()
        while True:
            with lock:
                index = next(position, None)
            if index is None:
                break
            if rate:
                delay = begin[0] + index / rate - time.perf_counter()
                if delay > 0:
                    time.sleep(delay)
            body, signature, event_id = events[index]
            wall, started = time.time(), time.perf_counter()
            conn.request("POST", PATH, body=body, headers={
                "Content-Type": "application/json", "X-Razorpay-Signature": signature,
                "X-Razorpay-Event-Id": event_id})
            response = conn.getresponse()
            response.read()
            mine.append((index, wall, time.perf_counter() - started))
            codes[response.status] = codes.get(response.status, 0) + 1
        conn.close()
        with lock:
            sent.extend(mine)
            for code, number in codes.items():
                statuses[code] = statuses.get(code, 0) + number

    threads = [threading.Thread(target=run) for _ in range(concurrency)]
    for thread in threads:
        thread.start()
    begin.append(time.perf_counter())
    barrier.wait()
    started = time.perf_counter()
    for thread in threads:
        thread.join()
    if statuses != {200: len(events)}:
        raise SystemExit(f"not every event was answered 200: {statuses}")
    return time.perf_counter() - started, sent, statuses


def percentile(values: list[float], p: float) -> float:
    ordered = sorted(values)
    return ordered[max(0, int(len(ordered) * p) - 1)]


def order_ids(url: str, tag: str) -> dict[str, str]:
    """{razorpay order id: order id} of the seeded orders with ``tag``."""
    engine = sa.create_engine(url)
    with engine.connect() as conn:
        rows = conn.execute(sa.text("SELECT razorpay_order_id, id FROM orders "
                                    "WHERE razorpay_order_id LIKE :p"),
                            {"p": f"order_{tag}%"}).all()
    engine.dispose()
    return dict(rows)


def wait_fulfilled(url: str, tag: str, expected: int, timeout: float = 600) -> None:
    engine = sa.create_engine(url)
    deadline = time.monotonic() + timeout
    try:
        while time.monotonic() < deadline:
            with engine.connect() as conn:
                done = conn.execute(sa.text(
                    "SELECT count(*) FROM orders WHERE razorpay_order_id LIKE :p "
                    "AND status = 'paid' AND fulfilled_at IS NOT NULL"),
                    {"p": f"order_{tag}%"}).scalar()
            if done >= expected:
                return
            time.sleep(0.05)
    finally:
        engine.dispose()
    raise SystemExit(f"only {done} of {expected} orders {tag} fulfilled in {timeout}s")


def check_once(url: str, tag: str, expected: int) -> None:
    engine = sa.create_engine(url)
    with engine.connect() as conn:
        grants = conn.execute(sa.text(
            "SELECT count(*) FROM ledger_postings p JOIN orders o "
            "ON p.reference = 'order:' || o.id WHERE o.razorpay_order_id LIKE :p"),
            {"p": f"order_{tag}%"}).scalar()
        failed = conn.execute(sa.text(
            "SELECT count(*) FROM webhook_events WHERE status NOT IN ('processed')")).scalar()
    engine.dispose()
    if (grants, failed) != (expected, 0):
        raise SystemExit(f"{tag}: {grants} grants for {expected} orders, {failed} events "
                         f"not processed")


def confirmation_latencies(events, sent, confirmed, ids) -> list[float]:
    """Seconds from each request's start to its order's confirmation."""
    latencies = []
    for index, wall, _ack in sent:
        razorpay_order_id = json.loads(events[index][0])["payload"]["payment"]["entity"][
            "order_id"]
        latencies.append(confirmed[ids[razorpay_order_id]] - wall)
    return latencies


# The runs --------------------------------------------------------------------------------

def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--database-url", required=True)
    parser.add_argument("--events", type=int, default=3000)
    parser.add_argument("--warmup", type=int, default=300)
    parser.add_argument("--concurrency", type=int, default=16)
    parser.add_argument("--threads", type=int, default=16, help="waitress threads")
    parser.add_argument("--burst", type=int, default=2000)
    parser.add_argument("--burst-concurrency", type=int, default=32)
    parser.add_argument("--steady-rate", type=float, default=50.0)
    parser.add_argument("--steady-seconds", type=float, default=30.0)
    parser.add_argument("--serve", choices=("app", "floor"), help=argparse.SUPPRESS)
    parser.add_argument("--work", help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    url = args.database_url
    if args.serve:
        serve(args.serve, url, args.threads)
        return 0
    if args.work:
        work(url, args.work)
        return 0
    if not url.startswith("postgresql"):
        raise SystemExit("the benchmark runs on PostgreSQL")

    reset(url)
    n, w = args.events, args.warmup
    steady_n = int(args.steady_rate * args.steady_seconds)
    floor_events = seed(url, n + w, "f")
    ack_events = seed(url, n + w, "k")
    e2e_events = seed(url, n + w, "e")
    burst_events = seed(url, args.burst, "b")
    steady_events = seed(url, steady_n + 50, "s")

    # 1. the floor, and the acknowledgement alone (no worker)
    floor, port = start_server(__file__, "floor", url, args.threads)
    try:
        send_all(port, floor_events[:w], args.concurrency)
        floor_elapsed, floor_sent, _ = send_all(port, floor_events[w:], args.concurrency)
    finally:
        floor.terminate()
        floor.wait(timeout=30)
    floor_rate = n / floor_elapsed

    app, port = start_server(__file__, "app", url, args.threads)
    try:
        send_all(port, ack_events[:w], args.concurrency)
        ack_elapsed, ack_sent, _ = send_all(port, ack_events[w:], args.concurrency)
        ack_rate = n / ack_elapsed

        # 2-4. with one worker
        worker = WorkerProcess(url)
        try:
            wait_fulfilled(url, "k", n + w)  # the acknowledged backlog first
            send_all(port, e2e_events[:w], args.concurrency)
            wait_fulfilled(url, "e", w)
            started = time.time()
            send_all(port, e2e_events[w:], args.concurrency)
            wait_fulfilled(url, "e", n + w)
            burst_elapsed, burst_sent, _ = send_all(port, burst_events,
                                                    args.burst_concurrency)
            wait_fulfilled(url, "b", args.burst)
            send_all(port, steady_events[:50], 2)
            wait_fulfilled(url, "s", 50)
            _, steady_sent, _ = send_all(port, steady_events[50:], 4, rate=args.steady_rate)
            wait_fulfilled(url, "s", steady_n + 50)
        finally:
            confirmed = worker.stop()
    finally:
        app.terminate()
        app.wait(timeout=30)

    for tag, count in (("k", n + w), ("e", n + w), ("b", args.burst),
                       ("s", steady_n + 50)):
        check_once(url, tag, count)
    e2e_ids = order_ids(url, "e")
    last = max(confirmed[e2e_ids[f"order_e{i:07d}"]] for i in range(w, n + w))
    e2e_rate = n / (last - started)
    burst_confirm = confirmation_latencies(burst_events, burst_sent, confirmed,
                                           order_ids(url, "b"))
    # steady_sent's indexes count from the first event after the 50 of the warm-up
    steady_confirm = confirmation_latencies(steady_events[50:], steady_sent, confirmed,
                                            order_ids(url, "s"))

    def ms(seconds: float) -> str:
        return f"{seconds * 1000:7.1f} ms"

    print(f"webhook inbox, PostgreSQL on loopback, waitress threads {args.threads}")
    print(f"  floor                      {floor_rate:8.1f} events/s  "
          f"p50 {ms(statistics.median(a for *_, a in floor_sent))}")
    print(f"  1. acknowledgement         {ack_rate:8.1f} events/s  "
          f"p50 {ms(statistics.median(a for *_, a in ack_sent))}   "
          f"ratio {ack_rate / floor_rate:.2f}  (target >= 0.70)")
    print(f"  2. end-to-end fulfilment   {e2e_rate:8.1f} events/s  "
          f"ratio {e2e_rate / floor_rate:.2f}  (target >= 0.50)")
    print(f"  3. burst {args.burst} from {args.burst_concurrency} connections: "
          f"{args.burst / burst_elapsed:.1f} events/s acknowledged")
    print(f"     p99 acknowledgement     {ms(percentile([a for *_, a in burst_sent], .99))}"
          f"  (target < 250 ms)")
    print(f"     p99 to isConfirmed      {ms(percentile(burst_confirm, .99))}"
          f"  (target < 1000 ms)   p50 {ms(statistics.median(burst_confirm))}")
    print(f"  4. steady {args.steady_rate:g} events/s for {args.steady_seconds:g} s")
    print(f"     p50 to isConfirmed      {ms(statistics.median(steady_confirm))}"
          f"  (target < 50 ms)   p99 {ms(percentile(steady_confirm, .99))}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
