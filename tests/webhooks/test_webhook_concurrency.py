"""Exactly once, proven on PostgreSQL with real threads and real server processes.

One purchase is paid at the sandbox; then, all at once, 50 copies of its signed
``payment.captured`` (the same event), 10 of its ``order.paid`` and 10 client verify calls
hit the app: from many threads at one server, and from many threads at two server
processes sharing the database, while three inbox workers drain the queue at the same
time (``FOR UPDATE SKIP LOCKED``). Whatever wins, the order is fulfilled once: one ledger
posting, one payment row, every delivery answered 2xx, each event queued once and
processed once.
"""

from __future__ import annotations

import collections
import os
import threading
from concurrent.futures import ThreadPoolExecutor

import pytest
import requests
import sqlalchemy as sa

from banter_payments import main
from banter_payments.ledger.models import Posting
from banter_payments.orders.models import Order
from banter_payments.payments.models import Payment
from banter_payments.sandbox.models import SandboxWebhook
from banter_payments.webhooks.models import WebhookDelivery, WebhookEvent
from tests.common.inbox import drain

pytestmark = [pytest.mark.server_database, pytest.mark.slow]

API = "/api/payments"
CAPTURED_COPIES = 50
ORDER_PAID_COPIES = 10
VERIFY_CALLS = 10


@pytest.fixture
def settings(settings):
    return dict(settings, **{"ratelimit.enabled": "false"})


@pytest.fixture
def app(settings):
    return main({}, **settings)


@pytest.fixture
def paid_at_the_sandbox(testapp, auth, dbsession):
    """An order paid at the sandbox whose webhooks are still in the outbox."""
    headers = auth("alice")
    order = testapp.post_json(f"{API}/orders", {"sku": "coins.popular"}, headers=headers).json
    checkout = testapp.post_json(
        f"{API}/_sandbox/razorpay/checkout/{order['razorpayOrderId']}/pay",
        {"outcome": "success", "method": "upi"}).json
    webhooks = {row.event: {"body": row.body, "signature": row.signature,
                            "event_id": row.event_id}
                for row in dbsession.scalars(
                    sa.select(SandboxWebhook).where(SandboxWebhook.status == "pending"))}
    dbsession.rollback()
    assert set(webhooks) == {"payment.authorized", "payment.captured", "order.paid"}
    return {"order": order, "checkout": checkout, "headers": headers, "webhooks": webhooks}


def _storm(bases: list[str], purchase: dict, registry) -> list[tuple[str, int, dict]]:
    """Every request at once (a barrier), spread over ``bases``, with three workers
    draining the inbox meanwhile (then once more after); (kind, status, body)."""
    jobs = []
    for number in range(CAPTURED_COPIES):
        jobs.append(("payment.captured", number))
    for number in range(ORDER_PAID_COPIES):
        jobs.append(("order.paid", number))
    for number in range(VERIFY_CALLS):
        jobs.append(("verify", number))
    barrier = threading.Barrier(len(jobs))
    local = threading.local()

    def fire(job):
        kind, number = job
        base = bases[number % len(bases)]
        http = getattr(local, "http", None) or requests.Session()
        local.http = http
        barrier.wait(timeout=60)
        if kind == "verify":
            response = http.post(f"{base}{API}/verify", json=purchase["checkout"],
                                 headers=purchase["headers"], timeout=60)
        else:
            row = purchase["webhooks"][kind]
            response = http.post(f"{base}{API}/webhooks/razorpay", data=row["body"],
                                 timeout=60,
                                 headers={"Content-Type": "application/json",
                                          "X-Razorpay-Signature": row["signature"],
                                          "X-Razorpay-Event-Id": row["event_id"]})
        return kind, response.status_code, response.json()

    storming = threading.Event()
    storming.set()

    def work() -> None:
        while storming.is_set():
            drain(registry)

    workers = [threading.Thread(target=work) for _ in range(3)]
    for worker in workers:
        worker.start()
    try:
        with ThreadPoolExecutor(max_workers=len(jobs)) as pool:
            results = list(pool.map(fire, jobs))
    finally:
        storming.clear()
        for worker in workers:
            worker.join(60)
    drain(registry)
    return results


def _assert_fulfilled_once(results, dbsession, purchase):
    statuses = collections.Counter((kind, status) for kind, status, _ in results)
    assert statuses == {("payment.captured", 200): CAPTURED_COPIES,
                        ("order.paid", 200): ORDER_PAID_COPIES,
                        ("verify", 200): VERIFY_CALLS}, statuses
    answers = collections.Counter((kind, body["status"]) for kind, _, body in results)
    assert answers[("payment.captured", "queued")] == 1
    assert answers[("payment.captured", "duplicate")] == CAPTURED_COPIES - 1
    assert answers[("order.paid", "queued")] == 1
    assert answers[("order.paid", "duplicate")] == ORDER_PAID_COPIES - 1
    assert answers[("verify", "paid")] == VERIFY_CALLS
    dbsession.rollback()
    outcomes = collections.Counter(tuple(row) for row in dbsession.execute(
        sa.select(WebhookDelivery.event, WebhookDelivery.outcome)))
    assert outcomes == {("payment.captured", "processed"): 1,
                        ("payment.captured", "duplicate"): CAPTURED_COPIES - 1,
                        ("order.paid", "processed"): 1,
                        ("order.paid", "duplicate"): ORDER_PAID_COPIES - 1}, outcomes
    assert {tuple(row) for row in dbsession.execute(
        sa.select(WebhookEvent.status, WebhookEvent.attempts))} == {("processed", 1)}

    order_id = purchase["order"]["id"]
    dbsession.rollback()
    assert dbsession.scalar(sa.select(sa.func.count()).select_from(Posting)
                            .where(Posting.reference == f"order:{order_id}")) == 1
    payments = dbsession.scalars(sa.select(Payment).where(Payment.order_id == order_id)).all()
    assert [(p.razorpay_payment_id, p.status) for p in payments] == [
        (purchase["checkout"]["razorpay_payment_id"], "captured")]
    order = dbsession.get(Order, order_id)
    assert (order.status, order.is_confirmed) == ("paid", True)
    assert dbsession.scalar(sa.select(sa.func.count()).select_from(WebhookDelivery)) == (
        CAPTURED_COPIES + ORDER_PAID_COPIES)
    assert dbsession.scalar(sa.select(sa.func.count()).select_from(WebhookEvent)) == 2
    dbsession.rollback()


def test_many_threads_one_server(app, dbsession, paid_at_the_sandbox, testapp, serve):
    base = serve(app, threads=16, connection_limit=200)
    results = _storm([base], paid_at_the_sandbox, app.registry)
    _assert_fulfilled_once(results, dbsession, paid_at_the_sandbox)
    wallet = testapp.get(f"{API}/wallet", headers=paid_at_the_sandbox["headers"]).json
    assert wallet["balances"]["coins"] == 600


def test_many_threads_two_server_processes(settings, dbsession, paid_at_the_sandbox, testapp,
                                           serve_process):
    servers = [serve_process(settings) for _ in range(2)]
    bases = [base for _, base in servers]
    for base in bases:
        assert requests.get(f"{base}{API}/health", timeout=30).json()["status"] == "ok"
    results = _storm(bases, paid_at_the_sandbox, testapp.app.registry)
    _assert_fulfilled_once(results, dbsession, paid_at_the_sandbox)
    pids = {process.pid for process, _ in servers}
    assert len(pids) == 2 and os.getpid() not in pids
    wallet = testapp.get(f"{API}/wallet", headers=paid_at_the_sandbox["headers"]).json
    assert wallet["balances"]["coins"] == 600
