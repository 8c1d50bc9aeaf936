"""The ledger under real concurrency: threads, each with its own dbsession and
transaction, released together on PostgreSQL."""

from __future__ import annotations

import threading
from collections import Counter
from concurrent.futures import ThreadPoolExecutor

import pytest

from banter_payments.errors import InsufficientFunds
from banter_payments.ledger.checker import check_ledger
from banter_payments.ledger.services import LedgerService

pytestmark = [pytest.mark.server_database, pytest.mark.slow]


def run_together(session_factory, count: int, work) -> list:
    """Run ``work(ledger, n)`` in ``count`` threads at once, each in its own transaction;
    the outcome of each: what it returned, or the exception's class name."""
    barrier = threading.Barrier(count)

    def one(n):
        dbsession = session_factory()
        try:
            barrier.wait()
            result = work(LedgerService(dbsession), n)
            dbsession.commit()
            return result
        except Exception as exc:
            dbsession.rollback()
            return type(exc).__name__
        finally:
            dbsession.close()

    with ThreadPoolExecutor(max_workers=count) as pool:
        return list(pool.map(one, range(count)))


def test_concurrent_debits_never_overdraw(ledger, dbsession, session_factory):
    ledger.grant("alice", {"coins": 200}, "order:1", "Purchase")
    dbsession.commit()

    outcomes = run_together(session_factory, 50, lambda ledger, n: ledger.debit(
        "alice", "coins", 10, f"host:{n}", "Spend").id)

    counts = Counter("posted" if isinstance(o, int) else o for o in outcomes)
    assert counts == {"posted": 20, InsufficientFunds.__name__: 30}
    assert ledger.balance("alice", "coins") == 0
    assert check_ledger(dbsession) == []


def test_one_reference_posted_by_many_at_once_is_applied_once(ledger, dbsession,
                                                              session_factory):
    outcomes = run_together(session_factory, 20, lambda ledger, n: ledger.grant(
        "alice", {"coins": 600}, "order:ord_same", "Purchase").id)

    assert len(set(outcomes)) == 1 and isinstance(outcomes[0], int)
    assert ledger.balance("alice", "coins") == 600
    assert check_ledger(dbsession) == []


def test_opposite_transfers_do_not_deadlock(ledger, dbsession, session_factory):
    ledger.grant("alice", {"coins": 1000}, "order:1", "Purchase")
    ledger.grant("bob", {"coins": 1000}, "order:2", "Purchase")
    dbsession.commit()

    def work(ledger, n):
        source, target = ("alice", "bob") if n % 2 else ("bob", "alice")
        return ledger.transfer(source, target, "coins", 7, f"t:{n}", "Transfer").id

    outcomes = run_together(session_factory, 40, work)

    assert all(isinstance(o, int) for o in outcomes), Counter(map(type, outcomes))
    assert ledger.balances("alice", ["coins"])["coins"] == 1000
    assert ledger.balances("bob", ["coins"])["coins"] == 1000
    assert check_ledger(dbsession) == []


def test_concurrent_grants_to_new_accounts_all_land(ledger, dbsession, session_factory):
    """Accounts created by many transactions at once: no duplicates, no deadlock."""
    outcomes = run_together(session_factory, 30, lambda ledger, n: ledger.grant(
        f"user-{n % 5}", {"coins": 1, "credits": 2}, f"order:{n}", "Purchase").id)

    assert all(isinstance(o, int) for o in outcomes), outcomes
    for owner in range(5):
        assert ledger.balances(f"user-{owner}", ["coins", "credits"]) == {
            "coins": 6, "credits": 12}
    assert check_ledger(dbsession) == []
