"""Concurrent refunds over real HTTP and threads: the captured amount is never exceeded."""

from __future__ import annotations

import threading

import pytest
import requests

from banter_payments import main
from banter_payments.security import issue_token

PREFIX = "/api/payments"
PRICE = 44900


@pytest.fixture
def server(settings, serve):
    app = main({}, **settings)
    return app, serve(app, threads=16)


def bearer(app, sub, *roles):
    return {"Authorization": f"Bearer {issue_token(app.registry.settings, sub, list(roles))}"}


def buy(app, base) -> dict:
    alice = bearer(app, "alice")
    order = requests.post(f"{base}{PREFIX}/orders", json={"sku": "coins.popular"},
                          headers=alice, timeout=30).json()
    checkout = requests.post(
        f"{base}{PREFIX}/_sandbox/razorpay/checkout/{order['razorpayOrderId']}/pay",
        json={"outcome": "success", "method": "upi"}, timeout=30).json()
    verified = requests.post(f"{base}{PREFIX}/verify", json=checkout, headers=alice,
                             timeout=30).json()
    assert verified["status"] == "paid"
    return verified


@pytest.mark.server_database
@pytest.mark.parametrize("concurrent", [2, 8])
def test_concurrent_partial_refunds_over_the_captured_amount_leave_exactly_one(
        server, shop, concurrent):
    app, base = server
    order = buy(app, base)
    admin = bearer(app, "ops", "admin")
    barrier = threading.Barrier(concurrent)
    answers, lock = [], threading.Lock()

    def refund():
        barrier.wait()
        response = requests.post(f"{base}{PREFIX}/orders/{order['id']}/refunds",
                                 json={"amount": 30000, "reason": "race"}, headers=admin,
                                 timeout=60)
        with lock:
            answers.append(response)

    threads = [threading.Thread(target=refund) for _ in range(concurrent)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()

    assert sorted(r.status_code for r in answers) == [201] + [409] * (concurrent - 1)
    for response in answers:
        if response.status_code == 409:
            assert response.json()["error"]["details"] == {"remaining": PRICE - 30000,
                                                           "requested": 30000}
    [row] = shop.rows()
    assert (row.status, row.amount) == ("processed", 30000)
    assert [r.amount for r in shop.gateway_refunds()] == [30000]
    shown = requests.get(f"{base}{PREFIX}/orders/{order['id']}",
                         headers=bearer(app, "alice"), timeout=30).json()
    assert (shown["refundedAmount"], shown["refundStatus"]) == (30000, "partial")
    balances = requests.get(f"{base}{PREFIX}/wallet", headers=bearer(app, "alice"),
                            timeout=30).json()["balances"]
    assert balances["coins"] == 600 - 400  # floor(600 * 30000 / 44900)
    assert shop.ledger_problems() == []


@pytest.mark.server_database
def test_concurrent_refunds_that_fit_all_go_through(server, shop):
    app, base = server
    order = buy(app, base)
    admin = bearer(app, "ops", "admin")
    barrier = threading.Barrier(5)
    statuses, lock = [], threading.Lock()

    def refund():
        barrier.wait()
        response = requests.post(f"{base}{PREFIX}/orders/{order['id']}/refunds",
                                 json={"amount": 8980, "reason": "fifth"}, headers=admin,
                                 timeout=60)
        with lock:
            statuses.append(response.status_code)

    threads = [threading.Thread(target=refund) for _ in range(5)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert statuses == [201] * 5
    assert sorted(r.status for r in shop.rows()) == ["processed"] * 5
    shown = requests.get(f"{base}{PREFIX}/orders/{order['id']}",
                         headers=bearer(app, "alice"), timeout=30).json()
    assert (shown["refundedAmount"], shown["refundStatus"]) == (PRICE, "full")
    balances = requests.get(f"{base}{PREFIX}/wallet", headers=bearer(app, "alice"),
                            timeout=30).json()["balances"]
    assert balances["coins"] == 0  # the pieces add up to all 600
    assert shop.ledger_problems() == []
