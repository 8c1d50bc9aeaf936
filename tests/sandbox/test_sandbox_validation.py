"""Bad input answers Razorpay's error envelope with a 400 (or a 401), never a 500."""

from __future__ import annotations

import base64
import json

import pytest
import webtest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

ENVELOPE_KEYS = ["code", "description", "field", "source", "step", "reason", "metadata"]


def error_of(response) -> dict:
    body = response.json
    assert list(body) == ["error"]
    assert list(body["error"]) == ENVELOPE_KEYS
    assert body["error"]["code"] == "BAD_REQUEST_ERROR"
    return body["error"]


@pytest.mark.parametrize(
    ("body", "field", "description"),
    [
        ({"currency": "INR"}, "amount", "The amount field is required."),
        ({"amount": 44900.0, "currency": "INR"}, "amount", "The amount must be an integer."),
        ({"amount": "449.00", "currency": "INR"}, "amount", "The amount must be an integer."),
        ({"amount": "44900 paise", "currency": "INR"}, "amount", "The amount must be an integer."),
        ({"amount": True, "currency": "INR"}, "amount", "The amount must be an integer."),
        ({"amount": [100], "currency": "INR"}, "amount", "The amount must be an integer."),
        ({"amount": -100, "currency": "INR"}, "amount", "The amount must be at least 1."),
        ({"amount": 0, "currency": "INR"}, "amount", "The amount must be at least 1."),
        ({"amount": 99, "currency": "INR"}, "amount", "The amount must be atleast INR 1.00"),
        ({"amount": 44900}, "currency", "The currency field is required."),
        ({"amount": 44900, "currency": "inr"}, "currency", "The currency provided is invalid."),
        ({"amount": 44900, "currency": 356}, "currency", "The currency provided is invalid."),
        (
            {"amount": 44900, "currency": "INR", "receipt": "r" * 41},
            "receipt",
            "The receipt may not be greater than 40 characters.",
        ),
        (
            {"amount": 44900, "currency": "INR", "receipt": 12},
            "receipt",
            "The receipt must be a string.",
        ),
        (
            {"amount": 44900, "currency": "INR", "notes": {str(i): "x" for i in range(16)}},
            "notes",
            "The notes may not have more than 15 items.",
        ),
        (
            {"amount": 44900, "currency": "INR", "notes": "gift"},
            "notes",
            "The notes field should be an object.",
        ),
        (
            {"amount": 44900, "currency": "INR", "notes": {"a": {"nested": 1}}},
            "notes",
            "The notes.a must be a string or a number.",
        ),
        (
            {"amount": 44900, "currency": "INR", "notes": {"a": "x" * 257}},
            "notes",
            "The notes.a may not be greater than 256 characters.",
        ),
        (
            {"amount": 44900, "currency": "INR", "payment_capture": 2},
            "payment_capture",
            "The payment_capture field is invalid.",
        ),
        (
            {"amount": 44900, "currency": "INR", "payment_capture": "yes"},
            "payment_capture",
            "The payment_capture field is invalid.",
        ),
        (
            {"amount": 44900, "currency": "INR", "partial_payment": True},
            "partial_payment",
            "partial_payment is/are not required and should not be sent",
        ),
        (
            {"amount": 44900, "currency": "INR", "foo": 1, "bar": 2},
            "foo",
            "foo, bar is/are not required and should not be sent",
        ),
    ],
)
def test_bad_order_bodies_name_the_field(emu, body, field, description):
    error = error_of(emu.post_json("/v1/orders", body, status=400))
    assert (error["field"], error["description"]) == (field, description)
    assert (error["source"], error["step"], error["reason"], error["metadata"]) == (
        "business",
        "payment_initiation",
        "input_validation_failed",
        {},
    )


@pytest.mark.parametrize(
    "raw",
    [b"{", b"[1, 2]", b'"amount"', b"null", b'{"amount": NaN, "currency": "INR"}', b"\xff\xfe"],
)
def test_a_body_that_is_not_a_json_object_is_a_bad_request(emu, raw):
    response = emu.post("/v1/orders", raw, content_type="application/json", status=400)
    assert error_of(response)["description"] in (
        "The request body is not valid JSON",
        "The request body should be a JSON object",
    )


def test_an_oversized_body_is_a_bad_request(emu):
    raw = json.dumps({"amount": 100, "currency": "INR", "receipt": "x" * 70000}).encode()
    response = emu.post("/v1/orders", raw, content_type="application/json", status=400)
    assert error_of(response)["description"] == "The request body is too large"


@pytest.mark.parametrize(
    "authorization",
    [
        None,
        ("Basic", ("rzp_test_sandbox0000001", "wrong-secret")),
        ("Basic", ("rzp_test_other", "sandbox-key-secret-0123456789")),
        ("Bearer", "sandbox-key-secret-0123456789"),
    ],
)
def test_missing_or_wrong_keys_answer_401(emulator, authorization):
    testapp = webtest.TestApp(emulator)
    if authorization:
        testapp.set_authorization(authorization)
    response = testapp.post_json("/v1/orders", {"amount": 100, "currency": "INR"}, status=401)
    assert response.json == {
        "error": {
            "code": "BAD_REQUEST_ERROR",
            "description": "The api key/secret provided is invalid",
            "field": None,
            "source": "NA",
            "step": "NA",
            "reason": "NA",
            "metadata": {},
        }
    }


@pytest.mark.parametrize(
    "value", ["Basic !!!notbase64", "Basic " + base64.b64encode(b"nocolon").decode(), "Basic"]
)
def test_malformed_basic_auth_answers_401(emulator, value):
    testapp = webtest.TestApp(emulator)
    testapp.get("/v1/orders/order_x", headers={"Authorization": value}, status=401)


def test_every_api_route_needs_the_key(emulator):
    testapp = webtest.TestApp(emulator)
    for method, path in [
        ("GET", "/v1/orders/order_x"),
        ("GET", "/v1/orders/order_x/payments"),
        ("GET", "/v1/payments/pay_x"),
        ("POST", "/v1/payments/pay_x/capture"),
        ("POST", "/v1/payments/pay_x/refund"),
        ("GET", "/v1/payments/pay_x/refunds"),
        ("GET", "/v1/refunds/rfnd_x"),
        ("GET", "/v1/no/such/route"),
    ]:
        response = testapp.request(path, method=method, status=401)
        assert response.json["error"]["description"] == "The api key/secret provided is invalid"


@pytest.mark.parametrize(
    ("method", "path"),
    [
        ("GET", "/v1/orders/order_missing"),
        ("GET", "/v1/orders/order_missing/payments"),
        ("GET", "/v1/payments/pay_missing"),
        ("GET", "/v1/payments/pay_missing/refunds"),
        ("GET", "/v1/refunds/rfnd_missing"),
    ],
)
def test_unknown_ids_do_not_exist(emu, method, path):
    error = error_of(emu.request(path, method=method, status=400))
    assert error["description"] == "The id provided does not exist"


def test_unknown_ids_do_not_exist_for_writes_either(emu):
    capture = emu.post_json(
        "/v1/payments/pay_missing/capture", {"amount": 100, "currency": "INR"}, status=400
    )
    assert error_of(capture)["description"] == "The id provided does not exist"
    refund = emu.post_json("/v1/payments/pay_missing/refund", {}, status=400)
    assert error_of(refund)["description"] == "The id provided does not exist"
    checkout = emu.post_json("/checkout/order_missing/pay", {}, status=400)
    assert error_of(checkout)["description"] == "The id provided does not exist"


def test_unknown_routes_and_methods_are_not_found(emu):
    for method, path in [("GET", "/v1/settlements"), ("DELETE", "/v1/orders/order_x"),
                         ("GET", "/v2/orders")]:
        error = error_of(emu.request(path, method=method, status=400))
        assert error["description"] == "The requested URL was not found on the server."


def test_unknown_query_parameters_are_refused_and_expand_is_accepted(shop, emu):
    order = shop.order()
    error = error_of(emu.get(f"/v1/orders/{order['id']}?count=10", status=400))
    assert (error["field"], error["description"]) == (
        "count",
        "count is/are not required and should not be sent",
    )
    assert emu.get(f"/v1/orders/{order['id']}?expand[]=payments").json["id"] == order["id"]


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"amount": 50000}, "currency"),
        ({"currency": "INR"}, "amount"),
        ({"amount": "50000.0", "currency": "INR"}, "amount"),
        ({"amount": 500.0, "currency": "INR"}, "amount"),
        ({"amount": 50000, "currency": "INR", "extra": 1}, "extra"),
    ],
)
def test_bad_capture_bodies_name_the_field(shop, emu, body, field):
    order = shop.order(50000, payment_capture=0)
    payment_id = shop.pay(order["id"])["razorpay_payment_id"]
    error = error_of(emu.post_json(f"/v1/payments/{payment_id}/capture", body, status=400))
    assert error["field"] == field
    assert shop.payment(payment_id)["status"] == "authorized"


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"amount": 1.5}, "amount"),
        ({"amount": "1e2"}, "amount"),
        ({"amount": False}, "amount"),
        ({"amount": -1}, "amount"),
        ({"speed": "instant"}, "speed"),
        ({"receipt": "r" * 41}, "receipt"),
        ({"notes": ["a"]}, "notes"),
        ({"reason": "customer asked"}, "reason"),
    ],
)
def test_bad_refund_bodies_name_the_field(shop, body, field):
    payment = shop.captured(10000)
    error = shop.refund(payment["id"], body, status=400)["error"]
    assert error["field"] == field
    assert shop.payment(payment["id"])["amount_refunded"] == 0


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"outcome": "maybe"}, "outcome"),
        ({"outcome": True}, "outcome"),
        ({"method": "crypto"}, "method"),
        ({"card": "4111111111111111"}, "card"),
    ],
)
def test_bad_checkout_bodies_name_the_field(shop, emu, body, field):
    order = shop.order()
    error = error_of(emu.post_json(f"/checkout/{order['id']}/pay", body, status=400))
    assert error["field"] == field
    assert emu.get(f"/v1/orders/{order['id']}").json["attempts"] == 0


def test_late_authorize_takes_no_fields(shop, emu):
    order = shop.order()
    payment_id = shop.pay(order["id"], outcome="failure")["error"]["metadata"]["payment_id"]
    emu.post_json(f"/payments/{payment_id}/late_authorize", {"status": "authorized"}, status=400)
    assert shop.payment(payment_id)["status"] == "failed"


json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(max_size=50),
    lambda children: (
        st.lists(children, max_size=4) | st.dictionaries(st.text(max_size=20), children, max_size=5)
    ),
    max_leaves=20,
)
order_bodies = (
    st.fixed_dictionaries(
        {},
        optional={
            "amount": json_values,
            "currency": st.sampled_from(["INR", "USD", "inr", ""]) | json_values,
            "receipt": json_values,
            "notes": json_values,
            "payment_capture": json_values,
        },
    )
    | json_values
)


@settings(
    max_examples=150, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(body=order_bodies)
def test_no_order_body_makes_the_emulator_fail(emu, body):
    response = emu.post(
        "/v1/orders", json.dumps(body), content_type="application/json", expect_errors=True
    )
    assert response.status_int in (200, 400), response.text
    if response.status_int == 400:
        error_of(response)
    else:
        assert isinstance(response.json["amount"], int)


@pytest.mark.parametrize("query", ["%ff=1", "count=%ff"])
def test_a_query_string_that_is_not_utf8_is_a_bad_request(testapp, query):
    import base64

    auth = base64.b64encode(b"rzp_test_sandbox0000001:sandbox-key-secret-0123456789").decode()
    response = testapp.get(f"/api/payments/_sandbox/razorpay/v1/orders/order_x?{query}",
                           headers={"Authorization": f"Basic {auth}"}, expect_errors=True)
    assert response.status_int == 400
    assert response.json["error"]["code"] == "BAD_REQUEST_ERROR"
