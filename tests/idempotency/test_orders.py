"""Idempotency keys on the real order route, over real HTTP, threads and processes."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import textwrap
import threading
import time

import pytest
import requests
import sqlalchemy as sa
import waitress.server

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


def serve(app, threads=16):
    server = waitress.server.create_server(app, host="127.0.0.1", port=0, threads=threads)
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    return server, f"http://127.0.0.1:{server.effective_port}"


@pytest.mark.postgresql
def test_20_concurrent_requests_with_one_key_give_one_success_and_409s(
        settings, slow_gateway, dbsession):
    app = main({}, **settings)
    server, base = serve(app)
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

    try:
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
    finally:
        server.close()


SERVER_SCRIPT = textwrap.dedent("""
    import json, os, sys, time
    import waitress.server
    from banter_payments import main
    from banter_payments.gateway.razorpay import RazorpayGateway

    original = RazorpayGateway.create_order

    def slow_create_order(self, *args, **kwargs):
        time.sleep(1.5)
        return original(self, *args, **kwargs)

    RazorpayGateway.create_order = slow_create_order
    app = main({}, **json.loads(os.environ["BANTER_TEST_SETTINGS"]))
    server = waitress.server.create_server(app, host="127.0.0.1", port=0, threads=4)
    print(server.effective_port, flush=True)
    server.run()
""")


@pytest.fixture
def two_processes(settings):
    processes, bases = [], []
    env = dict(os.environ, BANTER_TEST_SETTINGS=json.dumps(settings))
    try:
        for _ in range(2):
            process = subprocess.Popen([sys.executable, "-c", SERVER_SCRIPT], env=env,
                                       stdout=subprocess.PIPE, text=True)
            processes.append(process)
            bases.append(f"http://127.0.0.1:{int(process.stdout.readline())}")
        yield bases
    finally:
        for process in processes:
            process.terminate()
            process.wait(timeout=10)


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
