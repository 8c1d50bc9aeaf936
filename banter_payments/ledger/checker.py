"""``banter-check-ledger``: prove the ledger's invariants over the whole database.

Checks, each one query, each problem printed on its own line:

- every posting sums to zero per asset, and has no entries or at least two;
- every entry's asset is its account's asset;
- every cached balance equals the sum of its account's entries, and is not negative;
- every account's lifetime totals equal the sums of its incoming and outgoing entries;
- every user entry's ``balance_after`` equals the running sum of its account's entries.

Exit status 0 when the ledger is clean, 1 when any check fails, 2 when it cannot check
(no database given, or no ledger in it)::

    banter-check-ledger development.ini
    banter-check-ledger --database-url postgresql+psycopg://...
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence

from sqlalchemy import text
from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.orm import Session

CHECKS = {
    "unbalanced posting": """
        SELECT posting_id, asset, SUM(amount) AS total
        FROM ledger_entries GROUP BY posting_id, asset HAVING SUM(amount) <> 0
        ORDER BY posting_id
    """,
    "posting with a single entry": """
        SELECT posting_id, COUNT(*) AS entries
        FROM ledger_entries GROUP BY posting_id HAVING COUNT(*) = 1
        ORDER BY posting_id
    """,
    "entry asset differs from its account's": """
        SELECT e.id AS entry_id, e.asset AS entry_asset, a.asset AS account_asset
        FROM ledger_entries e JOIN ledger_accounts a ON a.id = e.account_id
        WHERE e.asset <> a.asset ORDER BY e.id
    """,
    "cached balance differs from the sum of entries": """
        SELECT a.id AS account_id, a.owner_id, a.asset, a.balance,
               COALESCE(SUM(e.amount), 0) AS entries_sum
        FROM ledger_accounts a LEFT JOIN ledger_entries e ON e.account_id = a.id
        WHERE a.balance IS NOT NULL
        GROUP BY a.id, a.owner_id, a.asset, a.balance
        HAVING a.balance <> COALESCE(SUM(e.amount), 0)
        ORDER BY a.id
    """,
    "negative or missing user balance": """
        SELECT id AS account_id, owner_id, asset, balance FROM ledger_accounts
        WHERE (owner_kind = 'user' AND balance IS NULL) OR balance < 0
        ORDER BY id
    """,
    "lifetime totals differ from the entries": """
        SELECT a.id AS account_id, a.owner_id, a.asset, a.total_in, a.total_out,
               COALESCE(SUM(CASE WHEN e.amount > 0 THEN e.amount ELSE 0 END), 0) AS sum_in,
               COALESCE(SUM(CASE WHEN e.amount < 0 THEN -e.amount ELSE 0 END), 0) AS sum_out
        FROM ledger_accounts a LEFT JOIN ledger_entries e ON e.account_id = a.id
        WHERE a.owner_kind = 'user'
        GROUP BY a.id, a.owner_id, a.asset, a.total_in, a.total_out
        HAVING a.total_in <> COALESCE(SUM(CASE WHEN e.amount > 0 THEN e.amount ELSE 0 END), 0)
            OR a.total_out <> COALESCE(SUM(CASE WHEN e.amount < 0 THEN -e.amount ELSE 0 END), 0)
        ORDER BY a.id
    """,
    "balance_after differs from the running sum": """
        SELECT entry_id, account_id, balance_after, running FROM (
            SELECT e.id AS entry_id, e.account_id, e.balance_after,
                   SUM(e.amount) OVER (PARTITION BY e.account_id ORDER BY e.id) AS running
            FROM ledger_entries e JOIN ledger_accounts a ON a.id = e.account_id
            WHERE a.owner_kind = 'user'
        ) AS chain
        WHERE balance_after IS NULL OR balance_after <> running
        ORDER BY entry_id
    """,
}

# How many offending rows each check reports; the count is always exact.
SHOWN_PER_CHECK = 20


def check_ledger(session: Session) -> list[str]:
    """Every invariant violation, as a line of text; an empty list when clean."""
    problems = []
    for name, sql in CHECKS.items():
        rows = session.execute(text(sql)).mappings().all()
        for row in rows[:SHOWN_PER_CHECK]:
            fields = ", ".join(f"{key}={value}" for key, value in row.items())
            problems.append(f"{name}: {fields}")
        if len(rows) > SHOWN_PER_CHECK:
            problems.append(f"{name}: ... and {len(rows) - SHOWN_PER_CHECK} more")
    return problems


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="banter-check-ledger",
        description="Check the wallet ledger's invariants; exit 1 if any fails.",
    )
    parser.add_argument("config_uri", nargs="?",
                        help="the app's ini file (its sqlalchemy.url, or $DATABASE_URL)")
    parser.add_argument("--database-url", help="check this database instead")
    args = parser.parse_args(argv)
    if not args.config_uri and not args.database_url:
        parser.print_usage(sys.stderr)
        print("banter-check-ledger: give an ini file or --database-url", file=sys.stderr)
        return 2
    url = args.database_url or _url_from_ini(args.config_uri)

    from ..db import make_engine

    engine = make_engine(url)
    try:
        with Session(engine.execution_options(sqlite_begin="DEFERRED")) as session:
            problems = check_ledger(session)
            counts = session.execute(text(
                "SELECT (SELECT COUNT(*) FROM ledger_postings), "
                "(SELECT COUNT(*) FROM ledger_entries), (SELECT COUNT(*) FROM ledger_accounts)"
            )).one()
    except SQLAlchemyError as exc:
        print(f"banter-check-ledger: cannot read the ledger: {exc.orig or exc}",
              file=sys.stderr)
        return 2
    finally:
        engine.dispose()
    for problem in problems:
        print(problem)
    postings, entries, accounts = counts
    summary = f"{postings} postings, {entries} entries, {accounts} accounts"
    if problems:
        print(f"ledger check FAILED: {len(problems)} problem(s) in {summary}")
        return 1
    print(f"ledger check passed: {summary}")
    return 0


def _url_from_ini(config_uri: str) -> str:
    from pyramid.paster import get_appsettings, setup_logging

    from ..settings import parse_settings

    setup_logging(config_uri)
    return parse_settings(get_appsettings(config_uri, name="main"))["sqlalchemy.url"]


if __name__ == "__main__":
    sys.exit(main())
