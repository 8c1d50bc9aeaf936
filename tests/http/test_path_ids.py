"""Ids from the path and the query are checked at the edge, the same on every database.

``GET /orders/%00`` was a 500 on PostgreSQL (psycopg's ``DataError``) and a 404 on
SQLite; a path id of the wrong shape is now a 404 before any view runs, a bad query value
a 400, and no raw NUL reaches a log line.
"""

from __future__ import annotations

import logging

import pytest

from banter_payments.ids import is_valid_path_id, new_id

PREFIX = "/api/payments"


@pytest.fixture
def admin(auth):
    return auth("ops", "admin")


@pytest.mark.parametrize("method, path", [
    ("GET", "/orders/%00"),
    ("GET", "/orders/%00/refunds"),
    ("POST", "/orders/%00/retry"),
    ("POST", "/orders/%00/refunds"),
    ("GET", "/admin/webhooks/%00"),
    ("POST", "/admin/webhooks/%00/replay"),
    ("GET", "/orders/ord_not-an-id"),
    ("GET", "/orders/whd_01JD0000000000000000000000"),
    ("GET", "/admin/webhooks/%E2%80%AE"),
    ("GET", "/orders/" + "A" * 300),
    ("GET", "/_sandbox/razorpay/v1/orders/%00"),
    ("POST", "/_sandbox/razorpay/checkout/%00/pay"),
])
def test_a_malformed_path_id_is_a_404(testapp, admin, method, path, caplog):
    caplog.set_level(logging.DEBUG)
    response = testapp.request(PREFIX + path, method=method, headers=admin,
                               body=b"{}" if method == "POST" else b"",
                               content_type="application/json", expect_errors=True)
    assert response.status_int == 404, response.text
    assert response.json["error"]["code"] == "not_found"
    for record in caplog.records:
        assert "\x00" not in record.getMessage()


def test_a_well_formed_unknown_id_is_the_same_404(testapp, admin):
    response = testapp.get(f"{PREFIX}/orders/{new_id('ord')}", headers=admin, status=404)
    assert response.json["error"]["code"] == "not_found"


@pytest.mark.parametrize("path", [
    "/orders?userId=%00",
    "/orders?cursor=%00",
    "/admin/webhooks?event=%00",
    "/admin/webhooks?status=%00",
    "/admin/refunds?cursor=b3JkXw",
    "/wallet/transactions?asset=%00",
    "/orders?%00=1",
])
def test_a_bad_query_value_is_a_400(testapp, admin, path, caplog):
    caplog.set_level(logging.DEBUG)
    response = testapp.get(PREFIX + path, headers=admin, status=400)
    assert response.json["error"]["code"] == "validation_failed"
    for record in caplog.records:
        assert "\x00" not in record.getMessage()


def test_the_document_states_the_id_formats(testapp):
    paths = testapp.get(f"{PREFIX}/openapi.json").json["paths"]
    [param] = paths[f"{PREFIX}/orders/{{order_id}}"]["get"]["parameters"]
    assert param["schema"]["pattern"] == "^ord_[0-9A-HJKMNP-TV-Z]{26}$"


def test_id_formats():
    assert is_valid_path_id("order_id", new_id("ord"))
    assert not is_valid_path_id("order_id", new_id("ord") + "\n")
    assert not is_valid_path_id("order_id", new_id("whd"))
    assert is_valid_path_id("razorpay_order_id", "order_EKwxwAgItmmXdp")
    assert not is_valid_path_id("razorpay_order_id", "order_EKwx\x00")
    assert is_valid_path_id("anything_else", "free")


def test_log_records_never_carry_a_raw_nul(caplog):
    from banter_payments.http.redaction import install_log_redaction

    install_log_redaction()
    caplog.set_level(logging.INFO)
    logging.getLogger("banter_payments.test").info("path %s", "/orders/\x00\r\x1b")
    [record] = caplog.records
    assert record.getMessage() == "path /orders/\\x00\\x0d\\x1b"


def test_authorization_comes_first(testapp):
    response = testapp.get(f"{PREFIX}/admin/webhooks/%00", status=401)
    assert response.json["error"]["code"] == "unauthenticated"
