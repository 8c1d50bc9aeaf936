"""Benchmark: reading a wallet must not grow with its history.

Times ``GET /wallet`` and the first and the 1000th page of ``GET /wallet/transactions``
for a user with 1,000,000 ledger entries and for a user with 100 (whose deepest page is
the 5th), in one run through the real app (WebTest, in-process), and prints the ratios.
A ratio near 1 means the cost does not depend on the size of the history.

Run it against a scratch database (it migrates it, and seeds the two users once; later
runs reuse them)::

    python tests/benchmarks/bench_wallet.py --database-url postgresql+psycopg://postgres@127.0.0.1:5432/bench
    python tests/benchmarks/bench_wallet.py --database-url sqlite:///var/bench.sqlite
    python tests/benchmarks/bench_wallet.py --database-url mysql+pymysql://root@127.0.0.1:3306/bench

The entries are inserted with one set-based statement per table (``generate_series`` on
PostgreSQL, MariaDB's ``seq_1_to_N`` sequence tables, a recursive CTE on SQLite): each is
a 1-coin purchase with its issuance side, so the ledger stays balanced and
``banter-check-ledger`` passes on the result.
"""

from __future__ import annotations

import argparse
import statistics
import sys
import time
from pathlib import Path

import sqlalchemy as sa
import webtest

ROOT = Path(__file__).resolve().parents[2]
HEAVY, LIGHT = "bench-heavy", "bench-light"
PAGE_SIZE = 20
PREFIX = "/api/payments"


def migrate(url: str) -> None:
    from alembic import command
    from alembic.config import Config

    config = Config()
    config.set_main_option("script_location", str(ROOT / "migrations"))
    config.cmd_opts = type("Options", (), {"x": [f"url={url}"]})()
    command.upgrade(config, "head")


def numbers(dialect: str, count: int) -> str:
    """A FROM clause yielding ``n`` = 1..count."""
    if dialect == "postgresql":
        return f"generate_series(1, {count}) AS g(n)"
    if dialect == "mysql":
        return f"(SELECT seq AS n FROM seq_1_to_{count}) AS g"
    return (f"(WITH RECURSIVE g(n) AS (SELECT 1 UNION ALL SELECT n + 1 FROM g "
            f"WHERE n < {count}) SELECT n FROM g) AS g")


def seed(engine: sa.Engine, owner: str, count: int) -> None:
    """Give ``owner`` ``count`` one-coin purchases, unless it already has them."""
    dialect = engine.dialect.name
    now = {"postgresql": "now()", "mysql": "UTC_TIMESTAMP(6)"}.get(dialect,
                                                                 "CURRENT_TIMESTAMP")
    reference = (f"CONCAT('bench:{owner}:', n)" if dialect == "mysql"
                 else f"'bench:{owner}:' || n")
    with engine.begin() as conn:
        existing = conn.execute(sa.text(
            "SELECT balance FROM ledger_accounts WHERE owner_kind = 'user' "
            "AND owner_id = :owner AND asset = 'coins'"), {"owner": owner}).scalar()
        if existing == count:
            return
        if existing is not None:
            raise SystemExit(f"{owner} exists with another history; use a fresh database")
        started = time.perf_counter()
        conn.execute(sa.text(
            f"INSERT INTO ledger_accounts (owner_kind, owner_id, asset, balance, total_in, "
            f"total_out, created_at) VALUES ('user', :owner, 'coins', :count, :count, 0, "
            f"{now})"), {"owner": owner, "count": count})
        conn.execute(sa.text(
            f"INSERT INTO ledger_accounts (owner_kind, owner_id, asset, balance, total_in, "
            f"total_out, created_at) SELECT 'system', 'issuance', 'coins', NULL, 0, 0, {now} "
            f"WHERE NOT EXISTS (SELECT 1 FROM ledger_accounts WHERE owner_kind = 'system' "
            f"AND owner_id = 'issuance' AND asset = 'coins')"))
        user_account, issuance = (conn.execute(sa.text(
            "SELECT id FROM ledger_accounts WHERE owner_id = :owner AND asset = 'coins'"),
            {"owner": name}).scalar() for name in (owner, "issuance"))
        conn.execute(sa.text(
            f"INSERT INTO ledger_postings (reference, kind, description, request, metadata, "
            f"created_at) SELECT {reference}, 'purchase', "
            f"'Purchase of Popular Pack', '{{}}', '{{}}', {now} FROM {numbers(dialect, count)}"
        ))
        first, last = conn.execute(sa.text(
            "SELECT MIN(id), MAX(id) FROM ledger_postings WHERE reference LIKE :pattern"),
            {"pattern": f"bench:{owner}:%"}).one()
        for account, amount, balance_after in ((issuance, -1, "NULL"),
                                               (user_account, 1, f"id - {first} + 1")):
            conn.execute(sa.text(
                f"INSERT INTO ledger_entries (posting_id, account_id, asset, amount, "
                f"balance_after, description, created_at) SELECT id, {account}, 'coins', "
                f"{amount}, {balance_after}, '', created_at FROM ledger_postings "
                f"WHERE id BETWEEN {first} AND {last} ORDER BY id"))
    if dialect == "postgresql":
        with engine.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
            conn.exec_driver_sql("VACUUM ANALYZE ledger_entries")
            conn.exec_driver_sql("VACUUM ANALYZE ledger_accounts")
            conn.exec_driver_sql("VACUUM ANALYZE ledger_postings")
    if dialect == "mysql":
        with engine.connect() as conn:
            conn.exec_driver_sql(
                "ANALYZE TABLE ledger_entries, ledger_accounts, ledger_postings").all()
    print(f"seeded {owner}: {count:,} entries in {time.perf_counter() - started:.1f}s",
          flush=True)


def deep_cursor(engine: sa.Engine, owner: str, page: int) -> str:
    """The cursor a client holds after reading ``page - 1`` pages."""
    from banter_payments.ledger.cursors import encode_cursor

    with engine.connect() as conn:
        entry_id = conn.execute(sa.text(
            "SELECT e.id FROM ledger_entries e JOIN ledger_accounts a ON a.id = e.account_id "
            "WHERE a.owner_kind = 'user' AND a.owner_id = :owner "
            "ORDER BY e.id DESC LIMIT 1 OFFSET :offset"),
            {"owner": owner, "offset": (page - 1) * PAGE_SIZE - 1}).scalar_one()
    return encode_cursor(entry_id)


def make_app(url: str) -> webtest.TestApp:
    from banter_payments import main

    app = main({}, **{
        "sqlalchemy.url": url,
        "sandbox.database_url": url,
        "sandbox.worker": "false",
        "banter_payments.plugins": "banter_coins\nbanter_credits",
        "ratelimit.enabled": "false",
    })
    return webtest.TestApp(app, extra_environ={"HTTP_HOST": "localhost:80"})


def measure(calls: dict, iterations: int, warmup: int) -> dict[str, list[float]]:
    """Time each of ``calls`` ``iterations`` times, alternating between them, so that
    whatever else the machine is doing weighs on both sides of a ratio alike."""
    for call in calls.values():
        for _ in range(warmup):
            call()
    timings: dict[str, list[float]] = {name: [] for name in calls}
    for _ in range(iterations):
        for name, call in calls.items():
            started = time.perf_counter()
            call()
            timings[name].append((time.perf_counter() - started) * 1000)
    return timings


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--database-url", required=True, help="a scratch database")
    parser.add_argument("--entries", type=int, default=1_000_000,
                        help="the heavy user's history (default 1,000,000)")
    parser.add_argument("--light-entries", type=int, default=100)
    parser.add_argument("--iterations", type=int, default=300)
    parser.add_argument("--warmup", type=int, default=30)
    args = parser.parse_args(argv)

    from banter_payments.db import make_engine
    from banter_payments.security import issue_token

    migrate(args.database_url)
    engine = make_engine(args.database_url)
    seed(engine, HEAVY, args.entries)
    seed(engine, LIGHT, args.light_entries)

    testapp = make_app(args.database_url)
    settings = testapp.app.registry.settings
    deepest = {HEAVY: 1000, LIGHT: -(-args.light_entries // PAGE_SIZE)}
    cases = {}
    for owner in (HEAVY, LIGHT):
        headers = {"Authorization": f"Bearer {issue_token(settings, owner, ttl_seconds=86400)}"}
        page = min(deepest[owner], -(-args.entries // PAGE_SIZE)) if owner == HEAVY \
            else deepest[owner]
        cursor = deep_cursor(engine, owner, page)

        def get(path, params=None, headers=headers):
            response = testapp.get(PREFIX + path, params or {}, headers=headers)
            return response.json

        assert get("/wallet")["balances"]["coins"] == (
            args.entries if owner == HEAVY else args.light_entries)
        assert len(get("/wallet/transactions", {"limit": PAGE_SIZE})["items"]) == PAGE_SIZE
        assert len(get("/wallet/transactions", {"limit": PAGE_SIZE, "cursor": cursor})[
            "items"]) == PAGE_SIZE
        cases[owner] = {
            "GET /wallet": lambda get=get: get("/wallet"),
            "GET /wallet/transactions, page 1": lambda get=get: get(
                "/wallet/transactions", {"limit": PAGE_SIZE}),
            "GET /wallet/transactions, deepest page": lambda get=get, cursor=cursor: get(
                "/wallet/transactions", {"limit": PAGE_SIZE, "cursor": cursor}),
        }
        cases[owner]["page"] = page

    print(f"\ndatabase: {engine.dialect.name}; {args.iterations} timed requests each "
          f"(after {args.warmup} warm-up), in-process through WebTest; milliseconds")
    print(f"deepest page: {HEAVY} page {cases[HEAVY]['page']}, "
          f"{LIGHT} page {cases[LIGHT]['page']} (its last)\n")
    header = (f"{'request':40} {'entries':>10} {'median':>8} {'p95':>8}")
    print(header + f" {'ratio (median)':>15}")
    print("-" * (len(header) + 16))
    for name in cases[HEAVY]:
        if name == "page":
            continue
        timings = measure({owner: cases[owner][name] for owner in (LIGHT, HEAVY)},
                          args.iterations, args.warmup)
        medians = {}
        for owner, count in ((LIGHT, args.light_entries), (HEAVY, args.entries)):
            medians[owner] = statistics.median(timings[owner])
            p95 = statistics.quantiles(timings[owner], n=20)[-1]
            ratio = "" if owner == LIGHT else f"{medians[HEAVY] / medians[LIGHT]:15.2f}"
            print(f"{name:40} {count:>10,} {medians[owner]:8.2f} {p95:8.2f} {ratio}")
    engine.dispose()
    return 0


if __name__ == "__main__":
    sys.exit(main())
