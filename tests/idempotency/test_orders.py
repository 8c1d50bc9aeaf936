"""Idempotency keys on the real order route, over real HTTP, threads and processes."""

from __future__ import annotations

import threading
import time

import pytest
import requests
import sqlalchemy as sa

from banter_payments import main
from banter_payments.gateway.razorpay import RazorpayGateway
from banter_payments.orders.models import Order
from banter_payments.security import issue_token

PREFIX = "/api/payments"


def count_orders(dbsession) -> int:
    count = dbsession.scalar(sa.select(sa.func.count()).select_from(Order))
    dbsession.rollback()
    return count


def test_one_request_sent_twice_with_one_key_gives_one_order_and_identical_answers(
        testapp, auth, dbsession):
    headers = {**auth("alice"), "Idempotency-Key": "order-1"}
    first = testapp.post_json(f"{PREFIX}/orders", {"sku": "coins.popular"}, headers=headers,
                              status=201)
    second = testapp.post_json(f"{PREFIX}/orders", {"sku": "coins.popular"}, headers=headers,
                               status=201)
    assert second.body == first.body
    assert second.headers["Idempotent-Replayed"] == "true"
    assert count_orders(dbsession) == 1
    assert dbsession.get(Order, first.json["id"]).user_id == "alice"


@pytest.fixture
def slow_gateway(monkeypatch):
    """Razorpay takes a second to create an order: long enough to be "in flight"."""
    original = RazorpayGateway.create_order

    def slow_create_order(self, *args, **kwargs):
        time.sleep(1.0)
        return original(self, *args, **kwargs)

    monkeypatch.setattr(RazorpayGateway, "create_order", slow_create_order)


@pytest.mark.server_database
def test_20_concurrent_requests_with_one_key_give_one_success_and_409s(
        settings, slow_gateway, dbsession, serve):
    app = main({}, **settings)
    base = serve(app, threads=16)
    token = issue_token(app.registry.settings, "alice")
    headers = {"Authorization": f"Bearer {token}", "Idempotency-Key": "burst"}
    barrier = threading.Barrier(20)
    answers = []
    lock = threading.Lock()

    def send():
        barrier.wait()
        response = requests.post(f"{base}{PREFIX}/orders", json={"sku": "coins.popular"},
                                 headers=headers, timeout=30)
        with lock:
            answers.append(response)

    threads = [threading.Thread(target=send) for _ in range(20)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    statuses = sorted(r.status_code for r in answers)
    assert statuses == [201] + [409] * 19
    for response in answers:
        if response.status_code == 409:
            assert response.json()["error"]["code"] == "idempotency_key_in_use"
    created = next(r for r in answers if r.status_code == 201)
    assert "Idempotent-Replayed" not in created.headers
    assert count_orders(dbsession) == 1
    replay = requests.post(f"{base}{PREFIX}/orders", json={"sku": "coins.popular"},
                           headers=headers, timeout=30)
    assert replay.status_code == 201
    assert replay.content == created.content
    assert replay.headers["Idempotent-Replayed"] == "true"


@pytest.fixture
def two_processes(settings, serve_process):
    """Two app processes whose Razorpay order creation takes 1.5 s."""
    return [serve_process(settings, threads=4, slow_create_order=1.5)[1] for _ in range(2)]


def test_a_key_in_flight_in_one_process_is_409_in_another(two_processes, registry, dbsession):
    first, second = two_processes
    token = issue_token(registry.settings, "alice")
    headers = {"Authorization": f"Bearer {token}", "Idempotency-Key": "across"}
    body = {"sku": "coins.popular"}
    results = {}

    def send_first():
        results["first"] = requests.post(f"{first}{PREFIX}/orders", json=body, headers=headers,
                                         timeout=30)

    thread = threading.Thread(target=send_first)
    thread.start()
    time.sleep(0.5)
    during = requests.post(f"{second}{PREFIX}/orders", json=body, headers=headers, timeout=30)
    thread.join()
    after = requests.post(f"{second}{PREFIX}/orders", json=body, headers=headers, timeout=30)

    assert during.status_code == 409
    assert during.json()["error"]["code"] == "idempotency_key_in_use"
    assert results["first"].status_code == 201
    assert after.status_code == 201
    assert after.content == results["first"].content
    assert after.headers["Idempotent-Replayed"] == "true"
    assert count_orders(dbsession) == 1
