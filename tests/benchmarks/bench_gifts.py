"""Benchmark: live gifting through the real route, against a floor on the same stack.

Serves two WSGI apps at once with waitress on loopback (each in its own process, so the
load generator does not share their interpreter) over the same PostgreSQL database:

- **app**: the real app (``banter_payments.main`` with ``banter_coins`` and
  ``banter_gifting``, every tween included): ``POST /gifts`` with a JWT, through the
  gift policy, the daily cap, the ledger posting, the gift row and ``GiftSent``.
- **floor**: Pyramid + pyramid_tm + the same session setup (``banter_payments.db``) and
  the same JWT security policy, with one view that decodes the caller's token and inserts
  one row. No app on this stack can accept an authenticated write for much less.

Four scenarios, each measured on the floor and the app in alternating rounds (so noise
from whatever else runs on the machine falls on both alike): 1-coin gifts between
distinct pairs (sender i to receiver i) and from every sender to one hot receiver, with 1
and with 200 concurrent senders (one thread and one keep-alive connection per sender).
It prints requests/s, p50/p99, and the ratios the targets are stated in, then checks that
every answer was a 201, every sender lost exactly what it sent, every balance equals the
sum of its entries, and that the ledger checker finds nothing. ``--profile`` then sends
gifts in-process and prints the statements of one gift and where the Python time goes.

It WIPES the database it is given (the schema is rebuilt by the migrations), so it only
runs against a database whose name contains "bench"::

    python tests/benchmarks/bench_gifts.py \\
        --database-url postgresql+psycopg://postgres@127.0.0.1:5432/bench_gifts
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
PATH = f"{PREFIX}/gifts"
JWT_SECRET = "bench-gifts-jwt-secret-0123456789abcdef"
HOST = "bench-host"
SENDERS = 200
FUNDS = 1_000_000


def app_settings(url: str) -> dict[str, str]:
    return {
        "sqlalchemy.url": url,
        "sandbox.database_url": url,
        "banter_payments.environment": "development",
        "banter_payments.plugins": "banter_coins\nbanter_gifting",
        "gifting.policy": "allow_all",
        "razorpay.mode": "sandbox",
        "sandbox.worker": "false",
        "jwt.secret": JWT_SECRET,
    }


def sender(number: int) -> str:
    return f"bench-sender-{number}"


def receiver(number: int) -> str:
    return f"bench-receiver-{number}"


# The floor -----------------------------------------------------------------------------

def floor_app(settings: dict[str, str]):
    """Pyramid + pyramid_tm + the app's session setup and JWT policy; one row per call."""
    from pyramid.config import Configurator
    from pyramid.response import Response

    from banter_payments.db import write
    from banter_payments.ids import new_id
    from banter_payments.settings import parse_settings
    from banter_payments.webhooks.models import WebhookDelivery

    deliveries = WebhookDelivery.__table__

    def create(request):
        identity = request.identity  # the same decode as the app's (security.py)
        body = request.json_body
        write(request.dbsession, deliveries.insert().values(
            id=new_id("whd"), event_id=None, headers={"from": identity.user_id},
            body=request.body, outcome="processed", source="razorpay",
            event=f"gift to {body['to']}"[:100]))
        return Response(status=201, json_body={"from": identity.user_id, "to": body["to"]})

    with Configurator(settings=parse_settings(settings)) as config:
        config.include("pyramid_tm")
        config.include("pyramid_retry")
        config.include("banter_payments.db")
        config.include("banter_payments.security")
        config.add_route("floor", PATH)
        config.add_view(create, route_name="floor", request_method="POST",
                        permission="user")
    return config.make_wsgi_app()


# Data ------------------------------------------------------------------------------------

def reset(url: str) -> None:
    from alembic import command
    from alembic.config import Config

    database = sa.engine.make_url(url).database or ""
    if "bench" not in database:
        raise SystemExit(f"refusing to wipe {database!r}: its name must contain 'bench'")
    engine = sa.create_engine(url)
    with engine.begin() as conn:
        conn.exec_driver_sql("DROP SCHEMA IF EXISTS public CASCADE")
        conn.exec_driver_sql("CREATE SCHEMA public")
    engine.dispose()
    config = Config()
    config.set_main_option("script_location", str(ROOT / "migrations"))
    config.cmd_opts = type("Options", (), {"x": [f"url={url}"]})()
    command.upgrade(config, "head")


def fund(url: str, count: int) -> None:
    """Grant every sender ``FUNDS`` coins through the ledger, one posting each."""
    from sqlalchemy.orm import Session

    from banter_payments.db import make_engine
    from banter_payments.ledger.services import LedgerService

    engine = make_engine(url)
    with Session(engine) as session:
        ledger = LedgerService(session)
        for number in range(count):
            ledger.grant(sender(number), {"coins": FUNDS}, f"order:bench-{number}",
                         "Bench funds")
        session.commit()
    engine.dispose()


def tokens(count: int) -> list[str]:
    from banter_payments.security import issue_token

    settings = {"jwt.secret": JWT_SECRET, "jwt.algorithm": "HS256"}
    return [issue_token(settings, sender(number), ttl_seconds=6 * 3600)
            for number in range(count)]


# Serving and load ------------------------------------------------------------------------

class ServiceTimes:
    """WSGI middleware: how long each request took inside the app, from the moment a
    waitress thread took it up to the end of its answer (no time in waitress's queue).
    ``GET /__bench/times`` answers the durations so far, as JSON, and forgets them."""

    def __init__(self, app):
        self.app, self.times, self.lock = app, [], threading.Lock()

    def __call__(self, environ, start_response):
        if environ["PATH_INFO"] == "/__bench/times":
            with self.lock:
                times, self.times = self.times, []
            body = json.dumps(times).encode()
            start_response("200 OK", [("Content-Type", "application/json"),
                                      ("Content-Length", str(len(body)))])
            return [body]
        started = time.perf_counter()
        try:
            return list(self.app(environ, start_response))
        finally:
            with self.lock:
                self.times.append(time.perf_counter() - started)


def service_times(port: int) -> list[float]:
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=60)
    conn.request("GET", "/__bench/times")
    times = json.loads(conn.getresponse().read())
    conn.close()
    return times


def serve(kind: str, url: str, threads: int) -> None:
    """The server process: ``bench_gifts.py --serve app|floor``."""
    from banter_payments import main

    settings = app_settings(url)
    wsgi = ServiceTimes(main({}, **settings) if kind == "app" else floor_app(settings))
    serve_wsgi(wsgi, threads, connection_limit=512)


def start(kind: str, url: str, threads: int) -> tuple[subprocess.Popen, int]:
    return start_server(__file__, kind, url, threads)


def load(port: int, jobs: list[tuple[int, str]], concurrency: int,
         tokens_: list[str]) -> tuple[float, list[float], collections.Counter]:
    """Send every (sender number, recipient) once. Thread t sends jobs t, t+c, ...: with
    200 threads each sender is one thread (its gifts one after the other, as one client
    would send them), with one thread the senders take turns."""
    latencies: list[float] = []
    statuses: collections.Counter = collections.Counter()
    lock = threading.Lock()
    barrier = threading.Barrier(concurrency + 1)

    def worker(offset: int):
        conn = http.client.HTTPConnection("127.0.0.1", port, timeout=120)
        mine, codes = [], collections.Counter()
        barrier.wait()
        for number, recipient in jobs[offset::concurrency]:
            body = json.dumps({"to": recipient, "coins": 1}).encode()
            started = time.perf_counter()
            conn.request("POST", PATH, body=body, headers={
                "Content-Type": "application/json",
                "Authorization": f"Bearer {tokens_[number]}"})
            response = conn.getresponse()
            response.read()
            mine.append(time.perf_counter() - started)
            codes[response.status] += 1
        conn.close()
        with lock:
            latencies.extend(mine)
            statuses.update(codes)

    threads = [threading.Thread(target=worker, args=(offset,))
               for offset in range(concurrency)]
    for thread in threads:
        thread.start()
    barrier.wait()
    started = time.perf_counter()
    for thread in threads:
        thread.join()
    return time.perf_counter() - started, latencies, statuses


def scenario_jobs(hot: bool, count: int) -> list[tuple[int, str]]:
    return [(index % SENDERS, HOST if hot else receiver(index % SENDERS))
            for index in range(count)]


def percentile(sorted_values: list[float], fraction: float) -> float:
    return sorted_values[max(int(len(sorted_values) * fraction) - 1, 0)]


def measure(ports: dict[str, int], hot: bool, concurrency: int, count: int, rounds: int,
            tokens_: list[str]) -> dict[str, dict]:
    """Floor and app in alternating rounds of ``count / rounds`` requests each."""
    totals = {kind: {"elapsed": 0.0, "latencies": [], "statuses": collections.Counter(),
                     "service": []} for kind in ports}
    per_round = max(count // rounds, concurrency)
    for _ in range(rounds):
        for kind, port in ports.items():
            service_times(port)  # forget what came before
            elapsed, latencies, statuses = load(port, scenario_jobs(hot, per_round),
                                                concurrency, tokens_)
            totals[kind]["service"].extend(service_times(port))
            totals[kind]["elapsed"] += elapsed
            totals[kind]["latencies"].extend(latencies)
            totals[kind]["statuses"].update(statuses)
    result = {}
    for kind, total in totals.items():
        latencies, service = sorted(total["latencies"]), sorted(total["service"])
        result[kind] = {
            "service_p50_ms": statistics.median(service) * 1000,
            "service_p99_ms": percentile(service, 0.99) * 1000,
            "rps": len(latencies) / total["elapsed"],
            "p50_ms": statistics.median(latencies) * 1000,
            "p99_ms": percentile(latencies, 0.99) * 1000,
            "statuses": total["statuses"],
            "requests": len(latencies),
        }
    return result


# Checks ----------------------------------------------------------------------------------

def check(url: str, app_gifts: int) -> list[str]:
    """Every gift exact: the senders lost what the gifts say, each cached balance equals
    its entries, and the ledger checker finds nothing."""
    from sqlalchemy.orm import Session

    from banter_payments.ledger.checker import check_ledger

    problems = []
    engine = sa.create_engine(url)
    with engine.connect() as conn:
        gifts = conn.execute(sa.text("SELECT count(*), coalesce(sum(coins), 0) FROM gifts"))
        count, coins = gifts.one()
        if count != app_gifts:
            problems.append(f"{count} gift rows for {app_gifts} answers 201")
        lost = conn.execute(sa.text(
            "SELECT coalesce(sum(:funds - balance), 0) FROM ledger_accounts "
            "WHERE owner_kind = 'user' AND owner_id LIKE 'bench-sender-%'"),
            {"funds": FUNDS}).scalar()
        if lost != coins:
            problems.append(f"the senders lost {lost} coins for {coins} coins of gifts")
        drift = conn.execute(sa.text(
            "SELECT count(*) FROM ledger_accounts a WHERE a.owner_kind = 'user' AND "
            "a.balance <> (SELECT coalesce(sum(e.amount), 0) FROM ledger_entries e "
            "WHERE e.account_id = a.id)")).scalar()
        if drift:
            problems.append(f"{drift} accounts whose balance differs from their entries")
    with Session(engine) as session:
        problems.extend(check_ledger(session))
    engine.dispose()
    return problems


# Profiling -------------------------------------------------------------------------------

def profile(url: str, tokens_: list[str], count: int) -> None:
    """One gift's statements, then ``count`` gifts in-process under cProfile."""
    from webob import Request

    from banter_payments import main

    app = main({}, **app_settings(url))

    def send(index: int):
        number = index % SENDERS
        request = Request.blank(PATH, method="POST", headers={
            "Content-Type": "application/json",
            "Authorization": f"Bearer {tokens_[number]}"},
            body=json.dumps({"to": receiver(number), "coins": 1}).encode())
        response = request.get_response(app)
        assert response.status_code == 201, response.body

    for index in range(50):
        send(index)
    statements: list[str] = []
    engine = app.registry["banter_payments.engine"]

    def record(conn, cursor, statement, parameters, context, executemany):
        statements.append(" ".join(statement.split())[:110])

    sa.event.listen(engine, "before_cursor_execute", record)
    send(50)
    sa.event.remove(engine, "before_cursor_execute", record)
    print(f"\nstatements of one gift ({len(statements)} round trips besides BEGIN "
          f"and COMMIT):")
    for statement in statements:
        print(f"  {statement}")
    profiler = cProfile.Profile()
    started = time.perf_counter()
    profiler.enable()
    for index in range(51, 51 + count):
        send(index)
    profiler.disable()
    elapsed = time.perf_counter() - started
    print(f"\nprofile: {count} gifts in-process, one at a time, under cProfile: "
          f"{elapsed / count * 1000:.2f} ms each")
    out = io.StringIO()
    stats = pstats.Stats(profiler, stream=out)
    stats.sort_stats("cumulative").print_stats(r"banter_payments|banter_gifting|pyramid", 30)
    stats.sort_stats("tottime").print_stats(15)
    print(out.getvalue())


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--database-url", required=True,
                        help="PostgreSQL, e.g. postgresql+psycopg://postgres@127.0.0.1:5432/"
                             "bench_gifts (wiped)")
    parser.add_argument("--gifts", type=int, default=1200,
                        help="requests per scenario and app, at 200 senders")
    parser.add_argument("--single", type=int, default=300,
                        help="requests per scenario and app, at 1 sender")
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--threads", type=int, default=16, help="waitress threads")
    parser.add_argument("--profile", action="store_true")
    parser.add_argument("--serve", choices=("app", "floor"), help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.serve:
        serve(args.serve, args.database_url, args.threads)
        return 0
    url = args.database_url
    if not url.startswith("postgresql"):
        raise SystemExit("the benchmark runs on PostgreSQL")

    reset(url)
    fund(url, SENDERS)
    tokens_ = tokens(SENDERS)
    processes, ports = [], {}
    try:
        for kind in ("floor", "app"):
            process, ports[kind] = start(kind, url, args.threads)
            processes.append(process)
        # Warm both (connections, first-request imports, the pool).
        load(ports["floor"], scenario_jobs(False, 200), 20, tokens_)
        load(ports["app"], scenario_jobs(False, 200), 20, tokens_)
        results = {}
        for concurrency, count in ((1, args.single), (SENDERS, args.gifts)):
            for hot in (False, True):
                results[(concurrency, hot)] = measure(ports, hot, concurrency, count,
                                                      args.rounds, tokens_)
    finally:
        for process in processes:
            process.terminate()
            process.wait(timeout=30)

    print(f"gifts, 1-coin, waitress threads {args.threads}, PostgreSQL on loopback, "
          f"{args.rounds} alternating rounds per scenario")
    errors = 0
    app_gifts = 200  # the warm-up
    for (concurrency, hot), result in results.items():
        name = f"{'hot receiver' if hot else 'distinct pairs'}, {concurrency} sender(s)"
        print(f"  {name}")
        for kind in ("floor", "app"):
            row = result[kind]
            print(f"    {kind:5} {row['rps']:7.1f} req/s   client p50 {row['p50_ms']:7.1f} "
                  f"p99 {row['p99_ms']:7.1f} ms   in the app p50 {row['service_p50_ms']:6.1f} "
                  f"p99 {row['service_p99_ms']:6.1f} ms   {dict(row['statuses'])}")
        print(f"    app/floor {result['app']['rps'] / result['floor']['rps']:.2f}")
        app_gifts += result["app"]["statuses"].get(201, 0)
        errors += sum(number for kind in ("floor", "app")
                      for status, number in result[kind]["statuses"].items() if status != 201)
    distinct, hot = results[(SENDERS, False)]["app"], results[(SENDERS, True)]["app"]
    floor = results[(SENDERS, False)]["floor"]
    print("targets (200 senders):")
    print(f"  distinct pairs / floor     {distinct['rps'] / floor['rps']:.2f}  (>= 0.5)")
    print(f"  hot receiver / distinct    {hot['rps'] / distinct['rps']:.2f}  (>= 0.8)")
    print(f"  p99 in the app, distinct / hot   {distinct['service_p99_ms']:.0f} / "
          f"{hot['service_p99_ms']:.0f} ms  (< 250)")
    print(f"  p99 at the client, distinct / hot   {distinct['p99_ms']:.0f} / "
          f"{hot['p99_ms']:.0f} ms  (200 requests always in flight: by Little's law the "
          f"mean is 200 / (req/s), {200 / distinct['rps'] * 1000:.0f} ms at this rate)")
    print(f"  errors                     {errors}  (0)")
    problems = check(url, app_gifts)
    print(f"  ledger after the run       {'clean' if not problems else problems}")
    if args.profile:
        profile(url, tokens_, 300)
    return 1 if problems or errors else 0


if __name__ == "__main__":
    sys.exit(main())
