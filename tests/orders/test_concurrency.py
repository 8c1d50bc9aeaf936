"""Check-then-insert order paths hold under concurrency (PostgreSQL, real threads)."""

from concurrent.futures import ThreadPoolExecutor

import pytest
import sqlalchemy as sa
import webtest

from banter_payments.orders.models import Order

PREFIX = "/api/payments"
pytestmark = pytest.mark.server_database


@pytest.fixture
def settings(settings):
    settings["ratelimit.enabled"] = "false"
    return settings


def fire(app, n, call):
    barrier_apps = [webtest.TestApp(app, extra_environ={"HTTP_HOST": "localhost:80"})
                    for _ in range(n)]
    with ThreadPoolExecutor(max_workers=n) as pool:
        return list(pool.map(call, barrier_apps))


def test_concurrent_service_orders_for_one_object_make_one_order(app, auth, dbsession):
    body = {"amount": 25000, "currency": "INR", "externalRef": "job-42", "sourceApp": "jobs"}
    headers = auth("jobs-backend", "service")
    responses = fire(app, 8, lambda client: client.post_json(
        f"{PREFIX}/orders", body, headers=headers, expect_errors=True))
    statuses = sorted(r.status_int for r in responses)
    assert statuses == [201] + [409] * 7
    dbsession.rollback()
    assert dbsession.scalar(sa.select(sa.func.count()).select_from(Order)
                            .where(Order.external_ref == "job-42")) == 1


def test_concurrent_retries_of_one_order_make_one_retry(app, testapp, auth, dbsession,
                                                        flush_webhooks):
    order = testapp.post_json(f"{PREFIX}/orders", {"sku": "coins.popular"},
                              headers=auth("alice")).json
    testapp.post_json(f"{PREFIX}/_sandbox/razorpay/checkout/{order['razorpayOrderId']}/pay",
                      {"outcome": "failure", "method": "card"})
    flush_webhooks()
    headers = auth("alice")
    responses = fire(app, 6, lambda client: client.post_json(
        f"{PREFIX}/orders/{order['id']}/retry", {}, headers=headers, expect_errors=True))
    statuses = sorted(r.status_int for r in responses)
    assert statuses == [201] + [409] * 5, [r.text for r in responses]
    dbsession.rollback()
    assert dbsession.scalar(sa.select(sa.func.count()).select_from(Order)
                            .where(Order.retry_of_id == order["id"])) == 1
