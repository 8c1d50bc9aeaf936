"""The real ``razorpay.Client`` against the emulator, in-process and over real HTTP."""

from __future__ import annotations

import hashlib
import hmac

import pytest
import razorpay
import requests
from razorpay.errors import BadRequestError, SignatureVerificationError

from banter_payments.gateway.transport import inprocess_session
from banter_payments.settings import SANDBOX_KEY_ID, SANDBOX_KEY_SECRET

KEY = (SANDBOX_KEY_ID, SANDBOX_KEY_SECRET)
MOUNT = "http://shop.test:8080/api/payments/_sandbox/razorpay"


@pytest.fixture(params=["in-process", "http"])
def sandbox(request, emulator, serve):
    """(base_url, a requests session for the customer's browser, an SDK client factory)."""
    if request.param == "in-process":
        base_url = MOUNT
        browser = inprocess_session(emulator, base_url)

        def client(auth=KEY):
            return razorpay.Client(
                auth=auth, base_url=base_url, session=inprocess_session(emulator, base_url)
            )
    else:
        base_url = serve(emulator)
        browser = requests.Session()

        def client(auth=KEY):
            return razorpay.Client(auth=auth, base_url=base_url)

    return base_url, browser, client


def test_the_purchase_flow_through_the_sdk(sandbox):
    base_url, browser, make_client = sandbox
    client = make_client()

    order = client.order.create(
        {"amount": 44900, "currency": "INR", "receipt": "ord_42", "notes": {"sku": "coins"}}
    )
    assert (order["entity"], order["amount"], order["status"], order["notes"]) == (
        "order",
        44900,
        "created",
        {"sku": "coins"},
    )

    checkout = browser.post(
        f"{base_url}/checkout/{order['id']}/pay", json={"outcome": "success", "method": "upi"}
    ).json()
    assert client.utility.verify_payment_signature(checkout) is True
    expected = hmac.new(
        SANDBOX_KEY_SECRET.encode(),
        f"{order['id']}|{checkout['razorpay_payment_id']}".encode(),
        hashlib.sha256,
    ).hexdigest()
    assert checkout["razorpay_signature"] == expected
    with pytest.raises(SignatureVerificationError):
        client.utility.verify_payment_signature({**checkout, "razorpay_signature": "0" * 64})

    payment = client.payment.fetch(checkout["razorpay_payment_id"])
    assert (payment["status"], payment["method"], payment["vpa"], payment["order_id"]) == (
        "captured",
        "upi",
        "success@razorpay",
        order["id"],
    )
    fetched = client.order.fetch(order["id"])
    assert (fetched["status"], fetched["amount_paid"], fetched["amount_due"]) == ("paid", 44900, 0)
    assert [p["id"] for p in client.order.payments(order["id"])["items"]] == [payment["id"]]

    refund = client.payment.refund(
        payment["id"],
        {"amount": 4900, "speed": "normal", "notes": {"reason": "test"}, "receipt": "rf_1"},
        headers={"X-Refund-Idempotency": "sdk-refund-0001"},
    )
    assert (refund["entity"], refund["amount"], refund["status"], refund["payment_id"]) == (
        "refund",
        4900,
        "processed",
        payment["id"],
    )
    again = client.payment.refund(
        payment["id"],
        {"amount": 4900, "speed": "normal", "notes": {"reason": "test"}, "receipt": "rf_1"},
        headers={"X-Refund-Idempotency": "sdk-refund-0001"},
    )
    assert again == refund
    assert client.refund.fetch(refund["id"]) == refund
    refunds = client.payment.fetch_multiple_refund(payment["id"])
    assert (refunds["count"], refunds["items"]) == (1, [refund])
    assert client.payment.fetch(payment["id"])["refund_status"] == "partial"


def test_manual_capture_through_the_sdk(sandbox):
    base_url, browser, make_client = sandbox
    client = make_client()
    order = client.order.create({"amount": 50000, "currency": "INR", "payment_capture": 0})
    checkout = browser.post(f"{base_url}/checkout/{order['id']}/pay", json={}).json()
    payment_id = checkout["razorpay_payment_id"]
    assert client.payment.fetch(payment_id)["status"] == "authorized"
    captured = client.payment.capture(payment_id, 50000, {"currency": "INR"})
    assert (captured["status"], captured["captured"]) == ("captured", True)
    assert client.order.fetch(order["id"])["status"] == "paid"


def test_a_failed_checkout_answers_the_error_shape_checkout_hands_over(sandbox):
    base_url, browser, make_client = sandbox
    client = make_client()
    order = client.order.create({"amount": 1000, "currency": "INR"})
    answer = browser.post(f"{base_url}/checkout/{order['id']}/pay", json={"outcome": "failure"})
    assert answer.status_code == 200
    error = answer.json()["error"]
    assert sorted(error) == ["code", "description", "metadata", "reason", "source", "step"]
    assert error["metadata"]["order_id"] == order["id"]
    assert client.payment.fetch(error["metadata"]["payment_id"])["status"] == "failed"
    assert client.order.fetch(order["id"])["status"] == "attempted"


def test_sdk_errors_carry_razorpays_descriptions(sandbox):
    _, _, make_client = sandbox
    client = make_client()
    with pytest.raises(BadRequestError, match="^The id provided does not exist$"):
        client.order.fetch("order_missing")
    with pytest.raises(BadRequestError, match="^The amount must be an integer.$"):
        client.order.create({"amount": 449.0, "currency": "INR"})
    with pytest.raises(BadRequestError, match="^The api key/secret provided is invalid$"):
        make_client(auth=(SANDBOX_KEY_ID, "not-the-secret")).order.fetch("order_missing")
    with pytest.raises(BadRequestError, match="is/are not required and should not be sent$"):
        client.order.create({"amount": 1000, "currency": "INR", "customer_id": "cust_1"})


def test_the_status_codes_match_razorpays(sandbox):
    base_url, browser, _ = sandbox
    assert browser.get(f"{base_url}/v1/orders/order_x").status_code == 401
    assert browser.get(f"{base_url}/v1/orders/order_x", auth=KEY).status_code == 400
    assert (
        browser.get(f"{base_url}/v1/orders/order_x", auth=KEY)
        .headers["Content-Type"]
        .startswith("application/json")
    )
