"""An app with a few extra routes that make the key's life cycle observable.

``/_test/work`` counts how many times its view really ran (per app), can sleep, fail
with a chosen status, or lose a database race on its first attempt.
"""

from __future__ import annotations

import threading
import time

import pytest
import sqlalchemy as sa
import webtest
from pyramid.config import Configurator
from pyramid.security import NO_PERMISSION_REQUIRED
from pyramid_retry import RetryableException

from banter_payments.errors import Conflict, GatewayError, ValidationFailed
from banter_payments.idempotency.models import IdempotencyKey

WORK = "/api/payments/_test/work"


class Counter:
    def __init__(self):
        self.lock = threading.Lock()
        self.calls = 0

    def next(self) -> int:
        with self.lock:
            self.calls += 1
            return self.calls


def work_view(request):
    counter = request.registry["test.counter"]
    attempt = request.environ["retry.attempt"]
    body = request.json_body if request.body else {}
    call = counter.next()
    time.sleep(body.get("sleep", 0))
    outcome = body.get("outcome", "ok")
    if outcome == "race" and attempt == 0:
        raise RetryableException("lost a serialization race")
    if outcome == "invalid":
        raise ValidationFailed(details={"thing": "is wrong"})
    if outcome == "conflict":
        raise Conflict("Not in this state.", details={"call": call})
    if outcome == "gateway":
        raise GatewayError()
    if outcome == "crash":
        raise RuntimeError("a bug")
    request.response.status = 201
    return {"call": call, "attempt": attempt, "echo": body.get("echo")}


def add_test_routes(config):
    config.registry["test.counter"] = Counter()
    config.add_route("test.work", WORK, request_method="POST")
    config.add_view(work_view, route_name="test.work", renderer="json",
                    permission=NO_PERMISSION_REQUIRED)


@pytest.fixture
def app(settings):
    with Configurator(settings=settings) as config:
        config.include("banter_payments")
        config.include(add_test_routes)
    return config.make_wsgi_app()


@pytest.fixture
def counter(app):
    return app.registry["test.counter"]


@pytest.fixture
def keys(dbsession):
    """The stored keys, as (scope, key, status, response_status) tuples."""

    def read():
        dbsession.rollback()
        rows = dbsession.execute(sa.select(
            IdempotencyKey.scope, IdempotencyKey.key, IdempotencyKey.status,
            IdempotencyKey.response_status).order_by(IdempotencyKey.id)).all()
        dbsession.rollback()  # never hold SQLite's write lock between requests
        return [tuple(row) for row in rows]

    return read


@pytest.fixture
def testapp(app) -> webtest.TestApp:
    return webtest.TestApp(app, extra_environ={"HTTP_HOST": "localhost:80",
                                               "REMOTE_ADDR": "127.0.0.1"})
