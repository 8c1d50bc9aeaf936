"""The sandbox Checkout's server side, over HTTP through the app (no browser): the key
checks, Razorpay's test inputs, the card entity, and the webhooks that follow."""

from __future__ import annotations

import base64
import datetime as dt
import hashlib
import hmac
import json

import pytest
from sqlalchemy import func, select

from banter_payments.sandbox.checkout import inputs
from banter_payments.sandbox.checkout.services import (
    ALREADY_PAID,
    AMOUNT_DIFFERS,
    CURRENCY_DIFFERS,
    INVALID_KEY,
    NO_ORDER,
    SUBSCRIPTION_TAKEN,
)
from banter_payments.sandbox.models import SandboxCard, SandboxWebhook
from banter_payments.settings import SANDBOX_KEY_ID, SANDBOX_KEY_SECRET

SANDBOX = "/api/payments/_sandbox/razorpay"
CARD = {"number": "4111 1111 1111 1111", "expiry": "12/30", "cvv": "123", "name": "Asha"}
CONTACT = {"email": "asha@example.com", "contact": "+919000090000"}
BASIC = {"Authorization": "Basic " + base64.b64encode(
    f"{SANDBOX_KEY_ID}:{SANDBOX_KEY_SECRET}".encode()).decode()}


@pytest.fixture
def order(testapp, auth):
    answer = testapp.post_json("/api/payments/orders", {"sku": "coins.popular"},
                               headers=auth("asha"))
    return answer.json


def pay(testapp, order, status=200, **body):
    data = {"key": SANDBOX_KEY_ID, "order_id": order["razorpayOrderId"], **CONTACT, **body}
    return testapp.post_json(f"{SANDBOX}/checkout/payments", data, status=status).json


def payments(testapp, order):
    return testapp.get(f"{SANDBOX}/v1/orders/{order['razorpayOrderId']}/payments",
                       headers=BASIC).json["items"]


def test_the_script_and_the_modal_are_served(testapp):
    script = testapp.get(f"{SANDBOX}/v1/checkout.js")
    assert script.content_type == "text/javascript"
    assert b"No key passed" in script.body
    frame = testapp.get(f"{SANDBOX}/checkout/frame")
    assert frame.content_type == "text/html"
    # Any merchant page may frame the modal, as Razorpay's may be.
    assert "frame-ancestors *" in frame.headers["Content-Security-Policy"]
    assert testapp.get(f"{SANDBOX}/checkout/assets/frame.js").content_type == "text/javascript"


def test_preferences_show_the_order(testapp, order):
    answer = testapp.post_json(f"{SANDBOX}/checkout/preferences", {
        "key": SANDBOX_KEY_ID, "order_id": order["razorpayOrderId"]}).json
    assert answer["order"] == {"id": order["razorpayOrderId"], "amount": 44900,
                               "currency": "INR", "status": "created"}
    assert "HDFC" in answer["methods"]["netbanking"]


@pytest.mark.parametrize(("body", "status", "description"), [
    ({"key": "rzp_test_wrong"}, 401, INVALID_KEY),
    ({"key": None}, 401, INVALID_KEY),
    ({"order_id": "order_nope"}, 400, "The id provided does not exist"),
    ({"order_id": 12}, 400, "The id provided does not exist"),
    ({"order_id": None}, 400, NO_ORDER),
    ({"order_id": None, "subscription_id": "sub_x"}, 400, "The id provided does not exist"),
])
def test_preferences_refuse_what_checkout_refuses(testapp, order, body, status, description):
    data = {"key": SANDBOX_KEY_ID, "order_id": order["razorpayOrderId"], **body}
    answer = testapp.post_json(f"{SANDBOX}/checkout/preferences", data, status=status).json
    assert answer["error"]["code"] == "BAD_REQUEST_ERROR"
    assert answer["error"]["description"] == description


def test_a_body_that_is_not_an_object_is_a_400(testapp):
    answer = testapp.post(f"{SANDBOX}/checkout/payments", b"[1]",
                          content_type="application/json", status=400).json
    assert answer["error"]["code"] == "BAD_REQUEST_ERROR"


def test_a_card_payment_answers_as_checkout_and_keeps_the_card(testapp, order, flush_webhooks,
                                                              auth):
    answer = pay(testapp, order, method="card", card=CARD, amount="44900", currency="INR",
                 notes={"address": "HQ"}, description="Popular Pack")
    message = f"{answer['razorpay_order_id']}|{answer['razorpay_payment_id']}".encode()
    assert answer["razorpay_signature"] == hmac.new(
        SANDBOX_KEY_SECRET.encode(), message, hashlib.sha256).hexdigest()
    [payment] = payments(testapp, order)
    assert (payment["status"], payment["method"], payment["email"], payment["contact"]) == (
        "captured", "card", "asha@example.com", "+919000090000")
    assert payment["notes"] == {"address": "HQ"} and payment["description"] == "Popular Pack"
    card = testapp.get(f"{SANDBOX}/v1/payments/{payment['id']}/card", headers=BASIC).json
    assert card == testapp.get(f"{SANDBOX}/v1/cards/{payment['card_id']}", headers=BASIC).json
    assert (card["entity"], card["last4"], card["network"], card["name"]) == (
        "card", "1111", "Visa", "Asha")
    testapp.get(f"{SANDBOX}/v1/cards/{payment['card_id']}", status=401)

    # The signed webhooks follow and fulfil the order without the client's verify.
    flush_webhooks()
    mine = testapp.get(f"/api/payments/orders/{order['id']}", headers=auth("asha")).json
    assert mine["status"] == "paid" and mine["isConfirmed"]


@pytest.mark.parametrize(("number", "last4", "network", "status"), [
    ("4000 0000 0000 0002", "0002", "Visa", "failed"),
    ("5555 5555 5555 4444", "4444", "MasterCard", "captured"),
])
def test_the_card_typed_is_the_payments_one_card_everywhere(testapp, app, order, number, last4,
                                                            network, status):
    from banter_payments.sandbox.emulator import emulator_service

    pay(testapp, order, method="card", card=dict(CARD, number=number))
    [payment] = payments(testapp, order)
    assert payment["status"] == status
    card = testapp.get(f"{SANDBOX}/v1/payments/{payment['id']}/card", headers=BASIC).json
    assert (card["id"], card["entity"], card["name"], card["last4"], card["network"]) == (
        payment["card_id"], "card", "Asha", last4, network)
    assert testapp.get(f"{SANDBOX}/v1/cards/{payment['card_id']}", headers=BASIC).json == card
    expanded = testapp.get(f"{SANDBOX}/v1/payments/{payment['id']}", {"expand[]": "card"},
                           headers=BASIC).json
    assert expanded["card"] == card
    # The webhooks raised with the payment name the same card.
    with emulator_service(app).reader() as session:
        bodies = [json.loads(body) for body in session.scalars(select(SandboxWebhook.body))]
    assert bodies and {b["payload"]["payment"]["entity"]["card_id"] for b in bodies} == {
        card["id"]}


def test_a_refused_card_payment_keeps_no_card(testapp, app, order):
    from banter_payments.sandbox.emulator import emulator_service

    pay(testapp, order, method="card", card=CARD)
    pay(testapp, order, status=400, method="card", card=dict(CARD, number="5555555555554444"))
    [payment] = payments(testapp, order)
    with emulator_service(app).reader() as session:
        assert session.scalar(select(func.count()).select_from(SandboxCard)) == 1
        assert session.scalar(select(SandboxCard.id)) == payment["card_id"]


def test_an_unknown_card_does_not_exist_as_razorpay_says(testapp):
    answer = testapp.get(f"{SANDBOX}/v1/cards/card_00000000000000", headers=BASIC, status=400)
    assert answer.json["error"]["description"] == "The id provided does not exist"


@pytest.mark.parametrize(("body", "field"), [
    ({"method": "card", "card": dict(CARD, number="4111 1111 1111 1112")}, "card[number]"),
    ({"method": "card", "card": dict(CARD, expiry="13/30")}, "card[expiry]"),
    ({"method": "card", "card": dict(CARD, expiry="01/20")}, "card[expiry]"),
    ({"method": "card", "card": dict(CARD, cvv="12")}, "card[cvv]"),
    ({"method": "card", "card": "4111"}, "card"),
    ({"method": "upi", "vpa": "no at sign"}, "vpa"),
    ({"method": "netbanking", "bank": "NOPE", "outcome": "success"}, "bank"),
    ({"method": "wallet", "wallet": "paytm", "outcome": "maybe"}, "outcome"),
    ({"method": "cash"}, "method"),
    ({"method": "upi", "vpa": "success@razorpay", "email": "nope"}, "email"),
    ({"method": "upi", "vpa": "success@razorpay", "contact": "12"}, "contact"),
    ({"method": "upi", "vpa": "success@razorpay", "notes": "text"}, "notes"),
])
def test_malformed_input_creates_no_payment(testapp, order, body, field):
    answer = pay(testapp, order, status=400, **body)
    assert answer["error"]["field"] == field
    assert payments(testapp, order) == []


def test_the_amount_and_currency_must_be_the_orders(testapp, order):
    card = {"method": "card", "card": CARD}
    assert pay(testapp, order, status=400, amount=44800, **card)["error"]["description"] \
        == AMOUNT_DIFFERS
    assert pay(testapp, order, status=400, amount="449.00", **card)["error"]["field"] == "amount"
    assert pay(testapp, order, status=400, amount=True, **card)["error"]["field"] == "amount"
    assert pay(testapp, order, status=400, currency="USD", **card)["error"]["description"] \
        == CURRENCY_DIFFERS
    assert payments(testapp, order) == []


@pytest.mark.parametrize(("body", "details"), [
    ({"method": "card", "card": dict(CARD, number="4000 0000 0000 0002")}, {"method": "card"}),
    ({"method": "upi", "vpa": "failure@razorpay"}, {"vpa": "failure@razorpay"}),
    ({"method": "netbanking", "bank": "SBIN", "outcome": "failure"}, {"bank": "SBIN"}),
    ({"method": "wallet", "wallet": "mobikwik", "outcome": "failure"}, {"wallet": "mobikwik"}),
])
def test_razorpays_failing_test_inputs_fail(testapp, order, body, details):
    error = pay(testapp, order, **body)["error"]
    assert (error["code"], error["source"], error["step"], error["reason"]) == (
        "BAD_REQUEST_ERROR", "customer", "payment_authentication", "payment_failed")
    [payment] = payments(testapp, order)
    assert error["metadata"] == {"payment_id": payment["id"], "order_id": order["razorpayOrderId"]}
    assert payment["status"] == "failed"
    assert {name: payment[name] for name in details} == details


def test_a_paid_order_cannot_be_paid_again(testapp, order):
    pay(testapp, order, method="upi", vpa="success@razorpay")
    answer = pay(testapp, order, status=400, method="upi", vpa="success@razorpay")
    assert answer["error"]["description"] == ALREADY_PAID
    assert len(payments(testapp, order)) == 1


def test_without_a_capture_delay_a_late_authorization_is_left_to_the_app(testapp, app, order):
    from banter_payments.sandbox.emulator import emulator_service

    error = pay(testapp, order, method="upi", vpa="failure@razorpay")["error"]
    payment_id = error["metadata"]["payment_id"]
    testapp.post_json(f"{SANDBOX}/payments/{payment_id}/late_authorize", {})
    assert emulator_service(app).capture_due(everything=True) == 0
    assert [p["status"] for p in payments(testapp, order)] == ["authorized"]


class TestCaptureDelay:
    @pytest.fixture
    def settings(self, settings):
        settings["sandbox.capture_delay"] = "60"
        return settings

    def test_verify_sees_an_authorization_and_the_capture_webhook_confirms(
            self, testapp, app, order, auth, flush_webhooks):
        from banter_payments.sandbox.emulator import emulator_service

        answer = pay(testapp, order, method="card", card=CARD)
        [payment] = payments(testapp, order)
        assert payment["status"] == "authorized"
        verified = testapp.post_json("/api/payments/verify", answer, headers=auth("asha")).json
        assert verified["status"] == "verified" and not verified["isConfirmed"]

        service = emulator_service(app)
        assert service.capture_due() == 0
        later = dt.datetime.now(dt.UTC) + dt.timedelta(seconds=61)
        assert service.capture_due(now=later) == 1
        assert service.capture_due(now=later) == 0
        flush_webhooks()
        mine = testapp.get(f"/api/payments/orders/{order['id']}", headers=auth("asha")).json
        assert mine["status"] == "paid" and mine["isConfirmed"]


@pytest.mark.parametrize(("number", "network"), [
    ("4111111111111111", "Visa"),
    ("5555555555554444", "MasterCard"),
    ("2223003122003222", "MasterCard"),
    ("378282246310005", "American Express"),
    ("6521000000000007", "RuPay"),
    ("3530111333300000", "JCB"),
])
def test_networks_by_first_digits(number, network):
    assert inputs.luhn_ok(number)
    assert inputs.network_of(number) == network


def test_an_american_express_card_has_a_four_digit_cvv():
    today = dt.date(2026, 12, 1)
    card = inputs.parse_card({"number": "378282246310005", "expiry": "12/2026", "cvv": "1234"},
                             today=today)
    assert (card.last4, card.succeeds) == ("0005", True)
    with pytest.raises(inputs.RazorpayError):
        inputs.parse_card({"number": "378282246310005", "expiry": "11/26", "cvv": "1234"},
                          today=today)


# Subscriptions: Checkout with subscription_id, as Razorpay's subscription Checkout.

@pytest.fixture
def subscription(testapp):
    plan = testapp.post_json(f"{SANDBOX}/v1/plans", {
        "period": "monthly", "interval": 1,
        "item": {"name": "Premium", "amount": 9900, "currency": "INR"}}, headers=BASIC).json
    return testapp.post_json(f"{SANDBOX}/v1/subscriptions", {
        "plan_id": plan["id"], "total_count": 12}, headers=BASIC).json


def pay_subscription(testapp, subscription, status=200, **body):
    data = {"key": SANDBOX_KEY_ID, "subscription_id": subscription["id"], **CONTACT, **body}
    return testapp.post_json(f"{SANDBOX}/checkout/payments", data, status=status).json


def test_preferences_show_the_subscription_and_its_plans_amount(testapp, subscription):
    answer = testapp.post_json(f"{SANDBOX}/checkout/preferences", {
        "key": SANDBOX_KEY_ID, "subscription_id": subscription["id"]}).json
    assert answer["order"] is None
    assert answer["subscription"] == {"id": subscription["id"],
                                      "plan_id": subscription["plan_id"], "amount": 9900,
                                      "currency": "INR", "status": "created"}
    assert "HDFC" in answer["methods"]["netbanking"]


@pytest.mark.parametrize(("body", "status", "description"), [
    ({"key": "rzp_test_wrong"}, 401, INVALID_KEY),
    ({"subscription_id": "sub_nope"}, 400, "The id provided does not exist"),
    ({"subscription_id": 12}, 400, "The id provided does not exist"),
])
def test_subscription_preferences_refuse_what_checkout_refuses(testapp, subscription, body,
                                                               status, description):
    data = {"key": SANDBOX_KEY_ID, "subscription_id": subscription["id"], **body}
    answer = testapp.post_json(f"{SANDBOX}/checkout/preferences", data, status=status).json
    assert answer["error"]["code"] == "BAD_REQUEST_ERROR"
    assert answer["error"]["description"] == description


def test_a_subscription_is_authenticated_with_the_subscription_signature(testapp, subscription):
    answer = pay_subscription(testapp, subscription, method="card", card=CARD)
    assert set(answer) == {"razorpay_payment_id", "razorpay_subscription_id",
                           "razorpay_signature"}
    assert answer["razorpay_subscription_id"] == subscription["id"]
    message = f"{answer['razorpay_payment_id']}|{subscription['id']}".encode()
    assert answer["razorpay_signature"] == hmac.new(
        SANDBOX_KEY_SECRET.encode(), message, hashlib.sha256).hexdigest()
    remote = testapp.get(f"{SANDBOX}/v1/subscriptions/{subscription['id']}",
                         headers=BASIC).json
    assert (remote["status"], remote["paid_count"]) == ("active", 1)
    payment = testapp.get(f"{SANDBOX}/v1/payments/{answer['razorpay_payment_id']}",
                          headers=BASIC).json
    assert (payment["status"], payment["method"], payment["amount"]) == (
        "captured", "card", 9900)

    # Paid once, the subscription cannot be authenticated again, in the modal or by paying.
    again = testapp.post_json(f"{SANDBOX}/checkout/preferences", {
        "key": SANDBOX_KEY_ID, "subscription_id": subscription["id"]}, status=400).json
    assert again["error"]["description"] == SUBSCRIPTION_TAKEN
    again = pay_subscription(testapp, subscription, status=400, method="card", card=CARD)
    assert again["error"]["description"] == SUBSCRIPTION_TAKEN


def test_a_declined_subscription_payment_is_checkouts_error_and_stays_payable(
        testapp, subscription):
    answer = pay_subscription(testapp, subscription, method="upi", vpa=inputs.FAILING_VPA)
    error = answer["error"]
    assert error["reason"] == "payment_failed" and error["source"] == "customer"
    assert error["metadata"]["subscription_id"] == subscription["id"]
    assert error["metadata"]["payment_id"].startswith("pay_")
    remote = testapp.get(f"{SANDBOX}/v1/subscriptions/{subscription['id']}",
                         headers=BASIC).json
    assert (remote["status"], remote["paid_count"]) == ("created", 0)
    # Retried in the same modal, it succeeds.
    assert "razorpay_signature" in pay_subscription(testapp, subscription, method="upi",
                                                    vpa="success@razorpay")


def test_malformed_input_for_a_subscription_creates_nothing(testapp, subscription):
    answer = pay_subscription(testapp, subscription, status=400, method="card",
                              card=dict(CARD, number="4111 1111 1111 1112"))
    assert answer["error"]["field"] == "card[number]"
    remote = testapp.get(f"{SANDBOX}/v1/subscriptions/{subscription['id']}",
                         headers=BASIC).json
    assert (remote["status"], remote["auth_attempts"]) == ("created", 0)
