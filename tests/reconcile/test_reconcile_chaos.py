"""Chaos: the sandbox duplicates, shuffles and drops webhooks across 200 purchases; after
one reconcile run every captured payment is fulfilled exactly once and nothing else is."""

from __future__ import annotations

import collections

import pytest
import sqlalchemy as sa

from banter_payments import main
from banter_payments.db import make_engine
from banter_payments.jobs import Job
from banter_payments.ledger.checker import check_ledger
from banter_payments.ledger.models import Posting
from banter_payments.orders.models import Order
from banter_payments.reconcile.interfaces import IReconcileService
from banter_payments.sandbox.models import SandboxPayment, SandboxWebhook
from banter_payments.webhooks.models import WebhookDelivery
from tests.common.inbox import flush_webhooks

PURCHASES = 200
API = "/api/payments"


@pytest.fixture
def settings(settings):
    settings.update({
        "sandbox.webhook_duplicates": "3",
        "sandbox.webhook_shuffle": "true",
        "sandbox.webhook_shuffle_window": "5",
        "sandbox.webhook_drop_rate": "0.3",
        "sandbox.random_seed": "20261121",
        "orders.reconcile_after_seconds": "0",
        "ratelimit.enabled": "false",
    })
    return settings


@pytest.fixture
def app(settings):
    return main({}, **settings)


def sandbox_rows(sandbox_url, model):
    engine = make_engine(sandbox_url)
    try:
        with engine.connect() as conn:
            return conn.execute(sa.select(model.__table__)).all()
    finally:
        engine.dispose()


@pytest.mark.slow
def test_every_captured_payment_is_fulfilled_exactly_once(app, testapp, auth, dbsession,
                                                          sandbox_url):
    orders = []
    for number in range(PURCHASES):
        user = f"user{number % 17}"
        headers = auth(user)
        order = testapp.post_json(f"{API}/orders", {"sku": "coins.popular"},
                                  headers=headers).json
        outcome = "failure" if number % 5 == 0 else "success"
        checkout = testapp.post_json(
            f"{API}/_sandbox/razorpay/checkout/{order['razorpayOrderId']}/pay",
            {"outcome": outcome, "method": "upi"}).json
        if outcome == "success" and number % 4 == 0:
            # Some clients verify; most close the app and leave it to webhooks.
            assert testapp.post_json(f"{API}/verify", checkout, headers=headers).json[
                "status"] == "paid"
        if number % 7 == 3:
            # A second attempt after a failure, on the same order.
            testapp.post_json(
                f"{API}/_sandbox/razorpay/checkout/{order['razorpayOrderId']}/pay",
                {"outcome": "success", "method": "card"}, expect_errors=True)
        orders.append((order["id"], order["razorpayOrderId"], user))

    flush_webhooks(app, app=app)
    with Job(app.registry) as job:
        report = job.find_service(IReconcileService).reconcile_orders()

    captured = collections.Counter(
        row.order_id for row in sandbox_rows(sandbox_url, SandboxPayment)
        if row.status == "captured")
    assert captured and max(captured.values()) == 1
    webhooks = sandbox_rows(sandbox_url, SandboxWebhook)
    statuses = collections.Counter(row.status for row in webhooks)
    # The knobs really bit: copies were dropped, the rest all answered 2xx.
    assert statuses["dropped"] > 0 and set(statuses) == {"delivered", "dropped"}
    assert report.paid, "reconcile had nothing to find: the test would prove nothing"
    assert report.errors == {} and report.anomalies == []

    dbsession.rollback()
    stored = {o.id: o for o in dbsession.scalars(sa.select(Order))}
    references = collections.Counter(dbsession.scalars(sa.select(Posting.reference)))
    expected_coins = collections.Counter()
    for order_id, razorpay_order_id, user in orders:
        order = stored[order_id]
        if razorpay_order_id in captured:
            assert (order.status, order.is_confirmed) == ("paid", True), order_id
            assert references[f"order:{order_id}"] == 1
            expected_coins[user] += 600
        else:
            assert order.status in ("attempted", "created"), order_id
            assert order.fulfilled_at is None and references[f"order:{order_id}"] == 0
    assert sum(references.values()) == len(captured)
    for user, coins in expected_coins.items():
        assert testapp.get(f"{API}/wallet", headers=auth(user)).json["balances"]["coins"] \
            == coins
    assert check_ledger(dbsession) == []
    outcomes = collections.Counter(dbsession.scalars(sa.select(WebhookDelivery.outcome)))
    assert outcomes["duplicate"] > 0 and outcomes["failed"] == 0
    assert outcomes["rejected"] == 0
    dbsession.rollback()  # end the read: SQLite has one writer at a time

    # A second run finds nothing more to do.
    with Job(app.registry) as job:
        again = job.find_service(IReconcileService).reconcile_orders()
    assert again.changed == 0 and again.errors == {}
