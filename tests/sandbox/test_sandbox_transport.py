"""The in-process ``requests`` transport hands a WSGI app exactly what a server would."""

from __future__ import annotations

import json
import time

import pytest
import requests

from banter_payments.gateway.transport import WSGITransport, inprocess_session


def echo(environ, start_response):
    """Answer with the parts of the environ a WSGI app relies on."""
    length = int(environ.get("CONTENT_LENGTH") or 0)
    seen = {
        "method": environ["REQUEST_METHOD"],
        "script_name": environ["SCRIPT_NAME"],
        "path_info": environ["PATH_INFO"],
        "query": environ["QUERY_STRING"],
        "host": environ["HTTP_HOST"],
        "server": [environ["SERVER_NAME"], environ["SERVER_PORT"]],
        "scheme": environ["wsgi.url_scheme"],
        "authorization": environ.get("HTTP_AUTHORIZATION"),
        "content_type": environ.get("CONTENT_TYPE"),
        "custom": environ.get("HTTP_X_REFUND_IDEMPOTENCY"),
        "body": environ["wsgi.input"].read(length).decode("utf-8"),
    }
    payload = json.dumps(seen).encode()
    start_response(
        "201 Created",
        [("Content-Type", "application/json; charset=utf-8"), ("X-Echo", "yes")],
    )
    return [payload[:10], payload[10:]]


BASE = "http://shop.test:8080/api/payments/_sandbox/razorpay"


def test_the_app_sees_method_paths_query_headers_and_body():
    session = inprocess_session(echo, BASE)
    response = session.post(
        f"{BASE}/v1/payments/pay_1/refund?x=1&y=two",
        data=json.dumps({"amount": 100}),
        headers={"Content-Type": "application/json", "X-Refund-Idempotency": "key-0000001"},
        auth=("rzp_test_key", "secret"),
        timeout=3,
        verify="/nonexistent/ca-bundle.crt",
    )
    seen = response.json()
    assert seen == {
        "method": "POST",
        "script_name": "/api/payments/_sandbox/razorpay",
        "path_info": "/v1/payments/pay_1/refund",
        "query": "x=1&y=two",
        "host": "shop.test:8080",
        "server": ["shop.test", "8080"],
        "scheme": "http",
        "authorization": requests.auth._basic_auth_str("rzp_test_key", "secret"),
        "content_type": "application/json",
        "custom": "key-0000001",
        "body": '{"amount": 100}',
    }


def test_the_response_is_a_real_requests_response():
    session = inprocess_session(echo, BASE)
    url = f"{BASE}/v1/orders/order_1"
    response = session.get(url, params={"expand[]": "payments"})
    assert response.status_code == 201
    assert response.reason == "Created"
    assert response.ok
    assert response.headers["x-echo"] == "yes"
    assert response.encoding == "utf-8"
    assert response.url == url + "?expand%5B%5D=payments"
    assert response.request.method == "GET"
    assert response.json()["query"] == "expand%5B%5D=payments"
    assert b"".join(response.iter_content(7)) == response.content


def test_elapsed_is_the_time_the_app_took():
    """``elapsed`` measures the call (as requests' own adapter does), not a constant."""

    def slow(environ, start_response):
        time.sleep(0.2)
        return echo(environ, start_response)

    session = inprocess_session(slow, BASE)
    started = time.monotonic()
    response = session.get(f"{BASE}/v1/orders/order_1")
    took = time.monotonic() - started
    assert 0.2 <= response.elapsed.total_seconds() <= took
    assert inprocess_session(echo, BASE).get(f"{BASE}/ping").elapsed.total_seconds() < 0.2


def test_https_and_default_ports():
    session = inprocess_session(echo, "https://pay.test/mount")
    seen = session.get("https://pay.test/mount/ping").json()
    assert (seen["scheme"], seen["server"], seen["host"], seen["path_info"]) == (
        "https",
        ["pay.test", "443"],
        "pay.test",
        "/ping",
    )


def test_percent_encoded_paths_are_decoded_as_a_server_would():
    seen = inprocess_session(echo, BASE).get(f"{BASE}/v1/orders/a%20b").json()
    assert seen["path_info"] == "/v1/orders/a b"


def test_json_and_streamed_bodies_arrive_whole():
    session = inprocess_session(echo, BASE)
    assert session.post(f"{BASE}/x", json={"a": [1, 2]}).json()["body"] == '{"a": [1, 2]}'
    chunks = (part for part in [b"one,", b"two"])
    assert session.post(f"{BASE}/x", data=chunks).json()["body"] == "one,two"


def test_urls_outside_the_mount_are_not_served_by_the_app():
    session = inprocess_session(echo, BASE)
    assert isinstance(session.get_adapter(BASE + "/v1/orders"), WSGITransport)
    assert not isinstance(session.get_adapter("http://elsewhere.test/"), WSGITransport)


def test_a_mount_at_the_root_passes_the_whole_path():
    seen = inprocess_session(echo, "http://app.test").get("http://app.test/api/x").json()
    assert (seen["script_name"], seen["path_info"]) == ("", "/api/x")


def test_an_exception_in_the_app_is_a_500_not_a_crash():
    def broken(environ, start_response):
        raise RuntimeError("boom")

    response = inprocess_session(broken, BASE).get(f"{BASE}/v1/orders/x")
    assert response.status_code == 500
    assert response.text == "Internal Server Error"
    with pytest.raises(requests.HTTPError):
        response.raise_for_status()


def test_the_close_method_of_the_apps_iterable_is_called():
    closed = []

    class Body(list):
        def close(self):
            closed.append(True)

    def app(environ, start_response):
        start_response("200 OK", [("Content-Type", "text/plain")])
        return Body([b"fine"])

    assert inprocess_session(app, BASE).get(f"{BASE}/").text == "fine"
    assert closed == [True]
