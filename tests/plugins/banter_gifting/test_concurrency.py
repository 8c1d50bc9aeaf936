"""Gifts under real concurrency on PostgreSQL: threads against a waitress server.

Every response must be a 201 or an API.md error, never a 500, and the ledger must check
out afterwards.
"""

from __future__ import annotations

import threading
from collections import Counter
from concurrent.futures import ThreadPoolExecutor

import pytest
import requests
import sqlalchemy as sa
from banter_gifting.models import Gift

from banter_payments.ledger.checker import check_ledger

pytestmark = [pytest.mark.server_database, pytest.mark.slow]


@pytest.fixture
def settings(settings):
    settings["gifting.daily_cap_coins"] = "1000"
    return settings


@pytest.fixture
def server_url(app, serve):
    return f"{serve(app, threads=16)}/api/payments"


def post_together(url: str, requests_: list[tuple[dict, dict]]) -> list[tuple[int, str]]:
    """POST every (headers, body) at once; (status, error code or gift id) of each."""
    barrier = threading.Barrier(len(requests_))
    http = requests.Session()
    http.mount("http://", requests.adapters.HTTPAdapter(pool_maxsize=len(requests_)))

    def one(item):
        headers, body = item
        barrier.wait()
        response = http.post(url, json=body, headers=headers, timeout=60)
        payload = response.json()
        return response.status_code, payload.get("error", {}).get("code") or payload["id"]

    with ThreadPoolExecutor(max_workers=len(requests_)) as pool:
        return list(pool.map(one, requests_))


def gifts_by(dbsession, sender_id: str) -> int:
    return dbsession.scalar(sa.select(sa.func.count()).select_from(Gift)
                          .where(Gift.sender_id == sender_id))


def test_fifty_gifts_against_a_balance_for_twenty(server_url, auth, fund, ledger, dbsession):
    fund("alice", 200)
    fund("bob", 5)  # some recipients have accounts, the others get theirs now
    recipients = ["bob", "carol", "dave", "erin", "frank"]
    batch = [(auth("alice"), {"to": recipients[n % 5], "coins": 10}) for n in range(50)]

    outcomes = post_together(f"{server_url}/gifts", batch)

    statuses = Counter(status for status, _ in outcomes)
    assert statuses == {201: 20, 422: 30}, outcomes
    assert {code for status, code in outcomes if status == 422} == {"insufficient_funds"}
    assert ledger.balance("alice", "coins") == 0
    assert gifts_by(dbsession, "alice") == 20
    received = sum(ledger.balance(user, "coins") for user in recipients)
    assert received == 200 + 5
    assert check_ledger(dbsession) == []


def test_cross_gifts_at_the_same_time_never_fail(server_url, auth, fund, ledger, dbsession):
    fund("alice", 1000)
    fund("bob", 1000)
    batch = [(auth("alice"), {"to": "bob", "coins": 3}) if n % 2 else
             (auth("bob"), {"to": "alice", "coins": 5}) for n in range(40)]

    outcomes = post_together(f"{server_url}/gifts", batch)

    assert Counter(status for status, _ in outcomes) == {201: 40}, outcomes
    assert ledger.balance("alice", "coins") == 1000 - 20 * 3 + 20 * 5
    assert ledger.balance("bob", "coins") == 1000 - 20 * 5 + 20 * 3
    assert check_ledger(dbsession) == []


def test_the_daily_cap_holds_under_concurrency(server_url, auth, fund, ledger, dbsession):
    fund("alice", 5000)
    batch = [(auth("alice"), {"to": f"friend-{n}", "coins": 100}) for n in range(30)]

    outcomes = post_together(f"{server_url}/gifts", batch)

    assert Counter(status for status, _ in outcomes) == {201: 10, 429: 20}, outcomes
    assert {code for status, code in outcomes if status == 429} == {"rate_limited"}
    assert ledger.balance("alice", "coins") == 4000
    assert gifts_by(dbsession, "alice") == 10
    assert check_ledger(dbsession) == []


def test_many_senders_to_one_host_while_it_gifts_back(server_url, auth, fund, ledger,
                                                     dbsession):
    """The live-dbsession shape: every sender's gift lands on the host's one account row,
    while the host gifts some of them back (opposite gifts on the same rows)."""
    senders = [f"listener-{n}" for n in range(12)]
    for sender in senders:
        fund(sender, 10)
    fund("host", 100)
    batch = [(auth(sender), {"to": "host", "coins": 2}) for sender in senders]
    batch += [(auth("host"), {"to": sender, "coins": 1}) for sender in senders[:8]]

    outcomes = post_together(f"{server_url}/gifts", batch)

    assert Counter(status for status, _ in outcomes) == {201: 20}, outcomes
    assert ledger.balance("host", "coins") == 100 + 12 * 2 - 8
    assert sum(ledger.balance(sender, "coins") for sender in senders) == 12 * 10 - 24 + 8
    assert check_ledger(dbsession) == []
