"""One access-log line per request, 4xx answers included; webhooks say what they did."""

from __future__ import annotations

import logging
import re

import pytest

PREFIX = "/api/payments"
LINE = re.compile(r"(?P<method>\S+) (?P<route>\S+) (?P<status>\d{3}) (?P<ms>[\d.]+)ms "
                  r"(?P<rid>\S+)(?: (?P<code>\S+))?\Z")


def access_lines(caplog):
    return [LINE.match(r.getMessage()) for r in caplog.records
            if r.name == "banter_payments.access"]


def test_one_line_per_request_with_route_status_duration_and_id(testapp, auth, caplog):
    caplog.set_level(logging.INFO)
    ok = testapp.get(f"{PREFIX}/catalog")
    testapp.get(f"{PREFIX}/orders/ord_x", headers=auth("alice"), status=404)
    testapp.get(f"{PREFIX}/orders", status=401)
    testapp.get(f"{PREFIX}/no/such/route", status=404,
                headers={"X-Request-Id": "lb-1234"})

    lines = access_lines(caplog)
    assert all(lines), [r.getMessage() for r in caplog.records]
    assert [(m["method"], m["route"], m["status"], m["code"]) for m in lines] == [
        ("GET", "payments.catalog", "200", None),
        ("GET", "payments.orders.show", "404", "not_found"),
        ("GET", "payments.orders.list", "401", "unauthenticated"),
        ("GET", "-", "404", "not_found"),
    ]
    assert lines[0]["rid"] == ok.headers["X-Request-Id"]
    assert lines[0]["rid"].startswith("req_")
    assert lines[3]["rid"] == "lb-1234"


def test_a_forged_request_id_is_replaced(testapp, caplog):
    caplog.set_level(logging.INFO)
    response = testapp.get(f"{PREFIX}/catalog", headers={"X-Request-Id": "a b\x1b[31m"})
    assert response.headers["X-Request-Id"].startswith("req_")


@pytest.fixture
def settings(settings):
    settings["sandbox.worker"] = "false"
    return settings


def test_a_webhook_that_changed_nothing_is_logged_as_such(testapp, auth, caplog,
                                                          flush_webhooks):
    caplog.set_level(logging.INFO)
    order = testapp.post_json(f"{PREFIX}/orders", {"sku": "coins.popular"},
                              headers=auth("alice")).json
    paid = testapp.post_json(
        f"{PREFIX}/_sandbox/razorpay/checkout/{order['razorpayOrderId']}/pay",
        {"outcome": "success", "method": "upi"}).json
    caplog.clear()
    flush_webhooks()  # authorized, captured, order.paid: the capture pays the order
    said = {m.split()[1]: m.split(": ", 1)[1] for m in (
        r.getMessage() for r in caplog.records
        if r.name == "banter_payments.webhooks.services")}
    assert said["payment.authorized"].endswith("rows written, nothing announced"), said
    assert said["payment.captured"].startswith(
        f"processed: paid order {order['id']} ("), said
    assert said["order.paid"] == "processed: changed nothing", said
    # A client's verify after the webhooks changes nothing either: same answer.
    assert testapp.post_json(f"{PREFIX}/verify", paid, headers=auth("alice")).json[
        "status"] == "paid"
