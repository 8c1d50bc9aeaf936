"""The emulator's entities have Razorpay's shapes, and move through Razorpay's states."""

from __future__ import annotations

import threading
import time

import pytest
import webtest

from banter_payments.sandbox.emulator import emulator_service

ORDER_KEYS = [
    "id", "entity", "amount", "amount_paid", "amount_due", "currency", "receipt",
    "offer_id", "status", "attempts", "notes", "created_at",
]  # fmt: skip
PAYMENT_KEYS = [
    "id", "entity", "amount", "currency", "status", "order_id", "invoice_id",
    "international", "method", "amount_refunded", "refund_status", "captured",
    "description", "card_id", "bank", "wallet", "vpa", "email", "contact", "customer_id",
    "token_id", "notes", "fee", "tax", "error_code", "error_description", "error_source",
    "error_step", "error_reason", "acquirer_data", "created_at",
]  # fmt: skip
REFUND_KEYS = [
    "id", "entity", "amount", "currency", "payment_id", "notes", "receipt", "acquirer_data",
    "created_at", "batch_id", "status", "speed_processed", "speed_requested",
]  # fmt: skip


def test_a_new_order_has_every_field_razorpay_returns(shop):
    before = int(time.time())
    order = shop.order(44900, notes={"sku": "coins.popular"})
    assert list(order) == ORDER_KEYS
    assert order["id"].startswith("order_")
    assert {k: v for k, v in order.items() if k not in ("id", "created_at")} == {
        "entity": "order",
        "amount": 44900,
        "amount_paid": 0,
        "amount_due": 44900,
        "currency": "INR",
        "receipt": "rcpt_1",
        "offer_id": None,
        "status": "created",
        "attempts": 0,
        "notes": {"sku": "coins.popular"},
    }
    assert before <= order["created_at"] <= int(time.time())


def test_empty_notes_come_back_as_an_empty_list_as_razorpay_does(shop):
    assert shop.order(notes={})["notes"] == []
    assert shop.order()["notes"] == []


def test_fetching_an_order_returns_the_same_entity(shop, emu):
    order = shop.order()
    assert emu.get(f"/v1/orders/{order['id']}").json == order


def test_a_successful_checkout_captures_and_pays_an_auto_capture_order(shop, emu):
    order = shop.order(44900)
    answer = shop.pay(order["id"], outcome="success", method="card")
    assert sorted(answer) == ["razorpay_order_id", "razorpay_payment_id", "razorpay_signature"]
    assert answer["razorpay_order_id"] == order["id"]

    payment = shop.payment(answer["razorpay_payment_id"])
    assert list(payment) == PAYMENT_KEYS
    assert payment["id"].startswith("pay_")
    assert payment["card_id"].startswith("card_")
    expected = {
        "entity": "payment",
        "amount": 44900,
        "currency": "INR",
        "status": "captured",
        "order_id": order["id"],
        "invoice_id": None,
        "international": False,
        "method": "card",
        "amount_refunded": 0,
        "refund_status": None,
        "captured": True,
        "description": None,
        "bank": None,
        "wallet": None,
        "vpa": None,
        "email": "customer@example.com",
        "contact": "+919000090000",
        "notes": [],
        # 2% of 44900 is 898, plus 18% GST on it (161): 1059 in all.
        "fee": 1059,
        "tax": 161,
        "error_code": None,
        "error_description": None,
        "error_source": None,
        "error_step": None,
        "error_reason": None,
    }
    assert {k: v for k, v in payment.items() if k in expected} == expected

    paid = emu.get(f"/v1/orders/{order['id']}").json
    assert (paid["status"], paid["amount_paid"], paid["amount_due"], paid["attempts"]) == (
        "paid",
        44900,
        0,
        1,
    )


def test_each_method_fills_its_own_instrument_field(shop):
    order = shop.order()
    upi = shop.payment(
        shop.pay(order["id"], method="upi", outcome="failure")["error"]["metadata"]["payment_id"]
    )
    assert (upi["method"], upi["vpa"], upi["card_id"]) == ("upi", "failure@razorpay", None)
    netbanking = shop.payment(
        shop.pay(shop.order()["id"], method="netbanking")["razorpay_payment_id"]
    )
    assert (netbanking["method"], netbanking["bank"]) == ("netbanking", "HDFC")
    wallet = shop.payment(shop.pay(shop.order()["id"], method="wallet")["razorpay_payment_id"])
    assert (wallet["method"], wallet["wallet"]) == ("wallet", "paytm")
    upi_ok = shop.payment(shop.pay(shop.order()["id"], method="upi")["razorpay_payment_id"])
    assert upi_ok["vpa"] == "success@razorpay"


def test_a_failed_checkout_answers_checkouts_error_and_leaves_the_order_attempted(shop, emu):
    order = shop.order()
    answer = emu.post_json(f"/checkout/{order['id']}/pay", {"outcome": "failure"}).json
    payment_id = answer["error"]["metadata"]["payment_id"]
    assert answer == {
        "error": {
            "code": "BAD_REQUEST_ERROR",
            "description": (
                "Your payment didn't go through as it was declined by the bank. "
                "Try another payment method or contact your bank."
            ),
            "source": "customer",
            "step": "payment_authentication",
            "reason": "payment_failed",
            "metadata": {"payment_id": payment_id, "order_id": order["id"]},
        }
    }
    payment = shop.payment(payment_id)
    assert (payment["status"], payment["captured"], payment["fee"]) == ("failed", False, None)
    assert (payment["error_code"], payment["error_source"], payment["error_reason"]) == (
        "BAD_REQUEST_ERROR",
        "customer",
        "payment_failed",
    )
    order = emu.get(f"/v1/orders/{order['id']}").json
    assert (order["status"], order["attempts"], order["amount_paid"]) == ("attempted", 1, 0)


def test_an_order_collects_every_attempt_newest_first(shop, emu):
    order = shop.order()
    failed = shop.pay(order["id"], outcome="failure")["error"]["metadata"]["payment_id"]
    succeeded = shop.pay(order["id"])["razorpay_payment_id"]
    payments = emu.get(f"/v1/orders/{order['id']}/payments").json
    assert payments["entity"] == "collection"
    assert payments["count"] == 2
    assert [(p["id"], p["status"]) for p in payments["items"]] == [
        (succeeded, "captured"),
        (failed, "failed"),
    ]
    assert emu.get(f"/v1/orders/{order['id']}").json["attempts"] == 2


def test_a_paid_order_accepts_no_more_payments(shop, emu):
    order = shop.order()
    shop.pay(order["id"])
    error = emu.post_json(f"/checkout/{order['id']}/pay", {}, status=400).json["error"]
    assert (error["code"], error["description"]) == (
        "BAD_REQUEST_ERROR",
        "Order has already been paid",
    )


def test_manual_capture_waits_for_the_capture_call(shop, emu):
    order = shop.order(50000, payment_capture=0)
    payment_id = shop.pay(order["id"])["razorpay_payment_id"]
    payment = shop.payment(payment_id)
    assert (payment["status"], payment["captured"], payment["fee"]) == ("authorized", False, None)
    assert emu.get(f"/v1/orders/{order['id']}").json["status"] == "attempted"

    captured = emu.post_json(
        f"/v1/payments/{payment_id}/capture", {"amount": 50000, "currency": "INR"}
    ).json
    assert list(captured) == PAYMENT_KEYS
    assert (captured["status"], captured["captured"], captured["fee"], captured["tax"]) == (
        "captured",
        True,
        1180,
        180,
    )
    order = emu.get(f"/v1/orders/{order['id']}").json
    assert (order["status"], order["amount_paid"], order["amount_due"]) == ("paid", 50000, 0)


def test_payment_capture_false_is_manual_and_true_is_automatic(shop):
    manual = shop.order(payment_capture=False)
    assert shop.payment(shop.pay(manual["id"])["razorpay_payment_id"])["status"] == "authorized"
    auto = shop.order(payment_capture=True)
    assert shop.payment(shop.pay(auto["id"])["razorpay_payment_id"])["status"] == "captured"


def test_a_payment_is_captured_once(shop, emu):
    order = shop.order(50000, payment_capture=0)
    payment_id = shop.pay(order["id"])["razorpay_payment_id"]
    body = {"amount": 50000, "currency": "INR"}
    emu.post_json(f"/v1/payments/{payment_id}/capture", body)
    error = emu.post_json(f"/v1/payments/{payment_id}/capture", body, status=400).json["error"]
    assert error["description"] == "This payment has already been captured"


def test_capture_needs_the_authorized_amount_and_currency(shop, emu):
    order = shop.order(50000, payment_capture=0)
    payment_id = shop.pay(order["id"])["razorpay_payment_id"]
    url = f"/v1/payments/{payment_id}/capture"
    error = emu.post_json(url, {"amount": 49999, "currency": "INR"}, status=400).json["error"]
    assert (error["description"], error["field"]) == (
        "Capture amount must be equal to the amount authorized",
        "amount",
    )
    error = emu.post_json(url, {"amount": 50000, "currency": "USD"}, status=400).json["error"]
    assert error["field"] == "currency"
    assert shop.payment(payment_id)["status"] == "authorized"


def test_a_failed_payment_cannot_be_captured(shop, emu):
    order = shop.order(50000, payment_capture=0)
    payment_id = shop.pay(order["id"], outcome="failure")["error"]["metadata"]["payment_id"]
    error = emu.post_json(
        f"/v1/payments/{payment_id}/capture", {"amount": 50000, "currency": "INR"}, status=400
    ).json["error"]
    assert error["description"].startswith("Only payments which have been authorized")


def test_late_authorization_turns_a_failed_payment_authorized(shop, emu):
    order = shop.order()
    payment_id = shop.pay(order["id"], outcome="failure")["error"]["metadata"]["payment_id"]
    payment = emu.post(f"/payments/{payment_id}/late_authorize").json
    assert list(payment) == PAYMENT_KEYS
    assert (payment["status"], payment["error_code"], payment["error_reason"]) == (
        "authorized",
        None,
        None,
    )
    assert shop.payment(payment_id)["status"] == "authorized"
    error = emu.post(f"/payments/{payment_id}/late_authorize", status=400).json["error"]
    assert error["description"] == "Only a failed payment can be authorized late"


def test_late_authorization_needs_no_key_but_an_existing_payment(emulator):
    anonymous = webtest.TestApp(emulator)
    error = anonymous.post("/payments/pay_missing/late_authorize", status=400).json["error"]
    assert error["description"] == "The id provided does not exist"


def test_a_refund_has_every_field_razorpay_returns(shop):
    payment = shop.captured(10000)
    refund = shop.refund(payment["id"], {"amount": 2500, "receipt": "r-1", "notes": {"why": "x"}})
    assert list(refund) == REFUND_KEYS
    assert refund["id"].startswith("rfnd_")
    assert {k: v for k, v in refund.items() if k not in ("id", "created_at", "acquirer_data")} == {
        "entity": "refund",
        "amount": 2500,
        "currency": "INR",
        "payment_id": payment["id"],
        "notes": {"why": "x"},
        "receipt": "r-1",
        "batch_id": None,
        "status": "processed",
        "speed_requested": "normal",
        "speed_processed": "normal",
    }
    assert list(refund["acquirer_data"]) == ["arn"]
    assert refund["acquirer_data"]["arn"].isdigit()


def test_concurrent_checkouts_of_one_order_pay_it_once(emulator, shop, emu):
    order = shop.order(20000)
    start = threading.Barrier(6)
    answers = []
    lock = threading.Lock()

    def checkout() -> None:
        browser = webtest.TestApp(emulator)
        start.wait()
        response = browser.post_json(f"/checkout/{order['id']}/pay", {}, expect_errors=True)
        with lock:
            answers.append((response.status_int, response.json))

    threads = [threading.Thread(target=checkout) for _ in range(6)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(30)
    paid = [body for status, body in answers if status == 200]
    refused = [body["error"]["description"] for status, body in answers if status == 400]
    assert len(paid) == 1
    assert refused == ["Order has already been paid"] * 5
    payments = emu.get(f"/v1/orders/{order['id']}/payments").json
    assert [p["id"] for p in payments["items"]] == [paid[0]["razorpay_payment_id"]]
    final = emu.get(f"/v1/orders/{order['id']}").json
    assert (final["status"], final["amount_paid"], final["attempts"]) == ("paid", 20000, 1)


def test_the_card_given_to_pay_is_the_payments_card_and_anything_else_is_refused(emulator):
    service = emulator_service(emulator)
    order = service.create_order({"amount": 44900, "currency": "INR"})
    with pytest.raises(ValueError, match="unknown card fields: number"):
        service.pay(order["id"], {"method": "card"}, notify_url="http://shop.test/hook",
                    card={"number": "4111111111111111"})
    with pytest.raises(ValueError, match="a card was given for a upi payment"):
        service.pay(order["id"], {"method": "upi"}, notify_url="http://shop.test/hook",
                    card={"last4": "4444"})
    # Refused before anything was written: the order was never attempted.
    assert service.get_order(order["id"])["attempts"] == 0
    answer = service.pay(order["id"], {"method": "card"}, notify_url="http://shop.test/hook",
                         card={"last4": "4444", "network": "MasterCard", "name": None})
    card = service.payment_card(answer["razorpay_payment_id"])
    assert (card["last4"], card["network"], card["name"], card["type"]) == (
        "4444", "MasterCard", None, "credit")
    assert service.get_card(card["id"]) == card
