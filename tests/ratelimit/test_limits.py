"""Per-route, per-caller rate limits: 429 with Retry-After; webhooks never limited."""

from __future__ import annotations

import logging
import uuid

import pytest
import redis
import sqlalchemy as sa

from banter_payments import main
from banter_payments.idempotency.models import IdempotencyKey
from banter_payments.orders.models import Order
from tests.common.services import REDIS_URL, require_redis

PREFIX = "/api/payments"


def create(testapp, headers, status=201, **kwargs):
    return testapp.post_json(f"{PREFIX}/orders", {"sku": "coins.popular"}, headers=headers,
                             status=status, **kwargs)


def count_orders(dbsession) -> int:
    count = dbsession.scalar(sa.select(sa.func.count()).select_from(Order))
    dbsession.rollback()
    return count


def test_the_default_allows_15_orders_an_hour_per_user(testapp, auth, dbsession):
    for _ in range(15):
        create(testapp, auth("alice"))
    refused = create(testapp, auth("alice"), status=429)
    assert refused.json["error"]["code"] == "rate_limited"
    retry_after = int(refused.headers["Retry-After"])
    assert 3500 < retry_after <= 3600
    assert refused.json["error"]["details"] == {"limit": "15 per 1 hour",
                                                "retryAfter": retry_after}
    assert refused.headers["X-Content-Type-Options"] == "nosniff"
    assert count_orders(dbsession) == 15
    # another user has a budget of their own; reading is not limited
    create(testapp, auth("bob"))
    testapp.get(f"{PREFIX}/orders", headers=auth("alice"), status=200)


def test_the_default_allows_10_verifications_per_15_minutes(testapp, auth):
    body = {"razorpay_order_id": "order_nope", "razorpay_payment_id": "pay_nope",
            "razorpay_signature": "0" * 64}
    for _ in range(10):
        testapp.post_json(f"{PREFIX}/verify", body, headers=auth("alice"), status=404)
    refused = testapp.post_json(f"{PREFIX}/verify", body, headers=auth("alice"), status=429)
    assert 800 < int(refused.headers["Retry-After"]) <= 900


class TestConfigured:
    @pytest.fixture
    def settings(self, settings):
        settings["ratelimit.rules"] = ("payments.orders.create: 2/hour\n"
                                       "payments.catalog: 3/minute")
        return settings

    def test_rules_come_from_the_ini(self, testapp, auth):
        create(testapp, auth("alice"))
        create(testapp, auth("alice"))
        create(testapp, auth("alice"), status=429)
        for _ in range(3):
            testapp.get(f"{PREFIX}/catalog", status=200)
        assert testapp.get(f"{PREFIX}/catalog", status=429).headers["Retry-After"]

    def test_anonymous_callers_are_counted_per_address(self, testapp):
        for _ in range(3):
            testapp.get(f"{PREFIX}/catalog", extra_environ={"REMOTE_ADDR": "10.0.0.1"})
        testapp.get(f"{PREFIX}/catalog", extra_environ={"REMOTE_ADDR": "10.0.0.1"}, status=429)
        testapp.get(f"{PREFIX}/catalog", extra_environ={"REMOTE_ADDR": "10.0.0.2"}, status=200)

    def test_services_are_exempt(self, testapp, auth):
        body = {"amount": 50000, "currency": "INR", "externalRef": "x", "sourceApp": "jobs"}
        for number in range(4):
            testapp.post_json(f"{PREFIX}/orders", dict(body, externalRef=f"job-{number}"),
                              headers=auth("jobs-backend", "service"), status=201)

    def test_a_replayed_answer_costs_nothing_and_a_429_is_not_stored(
            self, testapp, auth, dbsession):
        headers = {**auth("alice"), "Idempotency-Key": "same"}
        first = create(testapp, headers)
        assert create(testapp, headers).json == first.json
        create(testapp, auth("alice"))
        refused = create(testapp, {**auth("alice"), "Idempotency-Key": "later"}, status=429)
        assert refused.json["error"]["code"] == "rate_limited"
        keys = dbsession.scalars(sa.select(IdempotencyKey.key).order_by(IdempotencyKey.key))
        assert list(keys) == ["same"]
        dbsession.rollback()

    def test_webhooks_are_never_limited(self, testapp):
        for _ in range(30):
            response = testapp.post(f"{PREFIX}/webhooks/razorpay", b"{}", headers={
                "Content-Type": "application/json", "X-Razorpay-Signature": "0" * 64},
                expect_errors=True)
            assert response.status_int == 400


class TestDisabled:
    @pytest.fixture
    def settings(self, settings):
        settings["ratelimit.enabled"] = "false"
        settings["ratelimit.rules"] = "payments.orders.create: 1/hour"
        return settings

    def test_nothing_is_limited(self, testapp, auth):
        for _ in range(3):
            create(testapp, auth("alice"))


@pytest.fixture
def redis_url() -> str:
    """Redis on this machine: skipped locally when it is down, a failure in CI."""
    return require_redis(REDIS_URL)


@pytest.fixture
def redis_user(redis_url):
    """A user id no earlier run has spent budget for; its keys are deleted after."""
    user = f"redis-{uuid.uuid4().hex}"
    yield user
    client = redis.Redis.from_url(redis_url)
    for key in client.scan_iter(match=f"*{user}*"):
        client.delete(key)


def test_app_instances_sharing_redis_share_one_budget(settings, auth, redis_url, redis_user):
    """Two app instances in one process count one user's requests together."""
    import webtest

    settings["ratelimit.storage_url"] = redis_url
    settings["ratelimit.rules"] = "payments.orders.create: 3/hour"
    first = webtest.TestApp(main({}, **settings))
    second = webtest.TestApp(main({}, **settings))
    create(first, auth(redis_user))
    create(second, auth(redis_user))
    create(first, auth(redis_user))
    refused = create(second, auth(redis_user), status=429)
    assert int(refused.headers["Retry-After"]) > 3500
    client = redis.Redis.from_url(redis_url)
    assert any(redis_user in key.decode() for key in client.scan_iter(match=f"*{redis_user}*"))


def test_two_app_processes_share_one_budget_through_redis(settings, auth, redis_url, redis_user,
                                                          serve_process, dbsession):
    """Two app processes (as two servers behind a balancer) spend one budget: the limit
    holds across them, and neither counts alone (each would allow 3)."""
    import requests

    settings["ratelimit.storage_url"] = redis_url
    settings["ratelimit.rules"] = "payments.orders.create: 3/hour"
    (first_process, first), (second_process, second) = (serve_process(settings, threads=4),
                                                         serve_process(settings, threads=4))
    assert first_process.pid != second_process.pid
    headers = auth(redis_user)

    def order(base: str) -> requests.Response:
        return requests.post(f"{base}{PREFIX}/orders", json={"sku": "coins.popular"},
                             headers=headers, timeout=30)

    statuses = [order(base).status_code for base in (first, second, first, second, first)]
    assert statuses == [201, 201, 201, 429, 429]
    refused = order(second)
    assert refused.json()["error"]["code"] == "rate_limited"
    assert 3500 < int(refused.headers["Retry-After"]) <= 3600
    assert count_orders(dbsession) == 3


def test_an_unreachable_storage_lets_requests_through_and_says_so(settings, auth, caplog):
    import webtest

    settings["ratelimit.storage_url"] = "redis://127.0.0.1:1/0"
    settings["ratelimit.rules"] = "payments.orders.create: 1/hour"
    testapp = webtest.TestApp(main({}, **settings))
    caplog.set_level(logging.WARNING, logger="banter_payments.ratelimit")
    create(testapp, auth("alice"))
    create(testapp, auth("alice"))
    assert "rate limit storage failed" in caplog.text


def test_a_retried_attempt_is_counted_once(settings):
    """pyramid_retry replays a request that lost a database race: one request, one hit."""
    import webtest
    from pyramid.config import Configurator
    from pyramid.security import NO_PERMISSION_REQUIRED
    from pyramid_retry import RetryableException

    attempts = []

    def flaky(request):
        attempts.append(request.environ["retry.attempt"])
        if request.environ["retry.attempt"] == 0:
            raise RetryableException("lost a race")
        return {"ok": True}

    settings["ratelimit.rules"] = "test.flaky: 2/hour"
    with Configurator(settings=settings) as config:
        config.include("banter_payments")
        config.add_route("test.flaky", "/flaky")
        config.add_view(flaky, route_name="test.flaky", renderer="json",
                        permission=NO_PERMISSION_REQUIRED)
    testapp = webtest.TestApp(config.make_wsgi_app())
    testapp.post_json("/flaky", {}, status=200)
    testapp.post_json("/flaky", {}, status=200)
    assert attempts == [0, 1, 0, 1]
    testapp.post_json("/flaky", {}, status=429)
