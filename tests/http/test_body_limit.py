"""A body over banter_payments.max_body_bytes is refused with 413 before it is read."""

from __future__ import annotations

import io
import json

import pytest
import requests
import sqlalchemy as sa

from banter_payments import main
from banter_payments.http.bodylimit import TOO_LARGE, check_body, make_activate_hook
from banter_payments.orders.models import Order

PREFIX = "/api/payments"
LIMIT = 2048


@pytest.fixture
def settings(settings):
    settings["banter_payments.max_body_bytes"] = str(LIMIT)
    return settings


class Unreadable(io.RawIOBase):
    """A wsgi.input that fails the test if anything reads it."""

    def read(self, size=-1):
        raise AssertionError("the body was read")


def test_a_declared_length_over_the_limit_is_refused_without_reading():
    environ = {"CONTENT_LENGTH": str(LIMIT + 1), "wsgi.input": Unreadable()}
    assert check_body(environ, LIMIT) is True
    assert environ[TOO_LARGE] is True


def test_a_body_at_the_limit_passes_unread():
    environ = {"CONTENT_LENGTH": str(LIMIT), "wsgi.input": Unreadable()}
    assert check_body(environ, LIMIT) is False
    assert TOO_LARGE not in environ


def test_a_chunked_body_is_read_only_one_byte_past_the_limit():
    stream = io.BytesIO(b"x" * (LIMIT * 10))
    environ = {"HTTP_TRANSFER_ENCODING": "chunked", "wsgi.input_terminated": True,
               "wsgi.input": stream}
    assert check_body(environ, LIMIT) is True
    assert stream.tell() == LIMIT + 1


def test_a_short_chunked_body_is_kept_for_the_app():
    environ = {"HTTP_TRANSFER_ENCODING": "chunked", "wsgi.input_terminated": True,
               "wsgi.input": io.BytesIO(b'{"a": 1}')}
    assert check_body(environ, LIMIT) is False
    assert environ["CONTENT_LENGTH"] == "8"
    assert environ["wsgi.input"].read() == b'{"a": 1}'


def test_pyramid_retry_gets_one_attempt_for_a_too_large_body(registry):
    """One attempt means pyramid_retry does not copy the body to replay it."""
    hook = registry.settings["retry.activate_hook"]
    request = type("R", (), {})()
    request.registry = registry
    request.environ = {"CONTENT_LENGTH": str(LIMIT + 1), "wsgi.input": Unreadable()}
    assert hook(request) == 1
    request.environ = {"CONTENT_LENGTH": "10", "wsgi.input": Unreadable()}
    assert hook(request) is None


def test_a_host_apps_own_activate_hook_still_runs(registry):
    calls = []
    hook = make_activate_hook(lambda request: calls.append(request) or 2)
    request = type("R", (), {})()
    request.registry = registry
    request.environ = {"CONTENT_LENGTH": "10", "wsgi.input": Unreadable()}
    assert hook(request) == 2
    assert calls == [request]


def test_a_large_order_body_is_413_and_creates_nothing(testapp, auth, dbsession):
    body = json.dumps({"sku": "coins.popular", "padding": "x" * LIMIT})
    response = testapp.post(f"{PREFIX}/orders", body, headers={
        **auth("alice"), "Content-Type": "application/json"}, status=413)
    assert response.json == {"error": {"code": "payload_too_large",
                                       "message": "The request body is too large.",
                                       "details": {"limit": LIMIT}}}
    assert response.headers["X-Content-Type-Options"] == "nosniff"
    assert dbsession.scalar(sa.select(sa.func.count()).select_from(Order)) == 0


def test_413_comes_before_authentication(testapp):
    testapp.post(f"{PREFIX}/orders", "x" * (LIMIT + 1),
                 headers={"Content-Type": "application/json"}, status=413)


@pytest.fixture
def server(settings, serve):
    return serve(main({}, **settings), threads=4)


def test_over_http_a_chunked_body_over_the_limit_is_413(server):
    def chunks():
        for _ in range(64):
            yield b"x" * 1024

    response = requests.post(f"{server}{PREFIX}/_sandbox/token", data=chunks(),
                             headers={"Content-Type": "application/json"}, timeout=10)
    assert response.status_code == 413
    assert response.json()["error"]["code"] == "payload_too_large"


def test_over_http_a_short_chunked_body_reaches_the_view(server):
    def chunks():
        yield b'{"sub": "alice",'
        yield b' "roles": []}'

    response = requests.post(f"{server}{PREFIX}/_sandbox/token", data=chunks(),
                             headers={"Content-Type": "application/json"}, timeout=10)
    assert response.status_code == 200, response.text
    assert response.json()["token"].count(".") == 2


def test_over_http_a_declared_length_over_the_limit_is_413(server):
    response = requests.post(f"{server}{PREFIX}/_sandbox/token", data=b"x" * (LIMIT * 4),
                             headers={"Content-Type": "application/json"}, timeout=10)
    assert response.status_code == 413
