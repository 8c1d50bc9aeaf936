"""Contract: every orders, payments, refunds and customers call of the official Python SDK,
over real HTTP, answered with Razorpay's fields, collections, limits and messages.

``razorpay_fields.json`` is Razorpay's API reference, entity by entity (the fields in the
order the API returns them); every answer below is checked against it.
"""

from __future__ import annotations

import json
import re
import time
from pathlib import Path

import pytest
import razorpay
import requests
from razorpay.errors import BadRequestError

from banter_payments.settings import SANDBOX_KEY_ID, SANDBOX_KEY_SECRET

KEY = (SANDBOX_KEY_ID, SANDBOX_KEY_SECRET)

# Razorpay's documented fields per entity, shared with the Node SDK test.
DOCUMENTED_FIELDS = json.loads((Path(__file__).parent / "razorpay_fields.json").read_text())
ACQUIRER_DATA = {
    "card": ["auth_code"],
    "upi": ["rrn", "upi_transaction_id"],
    "netbanking": ["bank_transaction_id"],
    "wallet": ["transaction_id"],
}
ID = {
    kind: re.compile(rf"{prefix}_[0-9A-Za-z]{{14}}")
    for kind, prefix in [("order", "order"), ("payment", "pay"), ("refund", "rfnd"),
                         ("customer", "cust"), ("card", "card")]
}


def assert_entity(kind: str, entity: dict, *extra: str) -> None:
    assert list(entity) == DOCUMENTED_FIELDS[kind] + list(extra), kind
    assert entity["entity"] == kind
    assert ID[kind].fullmatch(entity["id"]), entity["id"]


def assert_payment(payment: dict, *expanded: str) -> None:
    extra = DOCUMENTED_FIELDS["payment.upi"] if payment["method"] == "upi" else []
    assert_entity("payment", payment, *extra, *expanded)
    assert list(payment["acquirer_data"]) == ACQUIRER_DATA[payment["method"]]


def assert_collection(answer: dict, kind: str, count: int) -> list[dict]:
    assert list(answer) == DOCUMENTED_FIELDS["collection"]
    assert answer["entity"] == "collection"
    assert answer["count"] == len(answer["items"]) == count
    for item in answer["items"]:
        if kind == "payment":
            assert_payment(item)
        else:
            assert_entity(kind, item)
    return answer["items"]


@pytest.fixture
def base_url(emulator, serve) -> str:
    return serve(emulator)


@pytest.fixture
def client(base_url) -> razorpay.Client:
    return razorpay.Client(auth=KEY, base_url=base_url)


@pytest.fixture
def buy(base_url, client):
    """``buy(amount, method=..., capture=True)`` → the payment of a new paid order."""

    def purchase(amount: int = 10000, *, method: str = "card", capture: bool = True,
                 outcome: str = "success") -> dict:
        order = client.order.create({"amount": amount, "currency": "INR",
                                     "payment_capture": 1 if capture else 0})
        answer = requests.post(f"{base_url}/checkout/{order['id']}/pay",
                               json={"method": method, "outcome": outcome}, timeout=10).json()
        payment_id = answer.get("razorpay_payment_id") or answer["error"]["metadata"][
            "payment_id"]
        return client.payment.fetch(payment_id)

    return purchase


def refused(call, *args, **kwargs) -> str:
    with pytest.raises(BadRequestError) as caught:
        call(*args, **kwargs)
    return str(caught.value)


# Orders


def test_orders_create_fetch_edit_and_payments(client, buy):
    order = client.order.create({"amount": 50000, "currency": "INR", "receipt": "r-7",
                                 "notes": {"sku": "coins"}})
    assert_entity("order", order)
    assert client.order.fetch(order["id"]) == order
    edited = client.order.edit(order["id"], {"notes": {"sku": "coins", "batch": "7"}})
    assert_entity("order", edited)
    assert edited["notes"] == {"sku": "coins", "batch": "7"}
    assert client.order.fetch(order["id"])["notes"] == {"sku": "coins", "batch": "7"}
    assert "amount is/are not required" in refused(
        client.order.edit, order["id"], {"notes": {}, "amount": 1})
    assert assert_collection(client.order.payments(order["id"]), "payment", 0) == []

    payment = buy(20000)
    (listed,) = assert_collection(client.order.payments(payment["order_id"]), "payment", 1)
    assert listed == payment
    expanded = client.order.payments(payment["order_id"], {"expand[]": "card"})["items"][0]
    assert_payment(expanded, "card")
    assert_entity("card", expanded["card"])


def test_orders_list_pages_filters_and_expands(client, buy):
    first = client.order.create({"amount": 1000, "currency": "INR", "receipt": "a"})
    time.sleep(0.01)
    second = client.order.create({"amount": 2000, "currency": "INR", "receipt": "b"})
    paid = buy(3000)
    everything = assert_collection(client.order.all(), "order", 3)
    assert [o["id"] for o in everything] == [paid["order_id"], second["id"], first["id"]]
    assert [o["id"] for o in client.order.all({"count": 1, "skip": 1})["items"]] == [
        second["id"]]
    assert [o["id"] for o in client.order.all({"receipt": "a"})["items"]] == [first["id"]]
    assert [o["id"] for o in client.order.all({"authorized": 1})["items"]] == [
        paid["order_id"]]
    assert len(client.order.all({"authorized": 0})["items"]) == 2
    now = int(time.time())
    assert client.order.all({"from": now + 10})["count"] == 0
    assert client.order.all({"from": now - 60, "to": now + 60})["count"] == 3
    with_payments = client.order.all({"expand[]": "payments", "count": 1})["items"][0]
    assert list(with_payments) == DOCUMENTED_FIELDS["order"] + ["payments"]
    assert [p["id"] for p in with_payments["payments"]["items"]] == [paid["id"]]


@pytest.mark.parametrize(
    ("query", "description"),
    [
        ({"count": 101}, "The count may not be greater than 100."),
        ({"count": 0}, "The count must be at least 1."),
        ({"count": "ten"}, "The count must be an integer."),
        ({"skip": -1}, "The skip must be at least 0."),
        ({"from": 12}, "The from must be at least 946684800."),
        ({"to": "yesterday"}, "The to must be an integer."),
        ({"from": 1700000100, "to": 1700000000}, "The from must be less than or equal to to."),
        ({"colour": "red"}, "colour is/are not required and should not be sent"),
    ],
)
def test_collection_limits_are_razorpays(client, query, description):
    for listing in (client.order.all, client.payment.all, client.refund.all,
                    client.customer.all):
        assert refused(listing, query) == description


def test_a_collection_is_at_most_100_and_10_by_default(client):
    for _ in range(12):
        client.order.create({"amount": 100, "currency": "INR"})
    assert client.order.all()["count"] == 10
    assert client.order.all({"count": 100})["count"] == 12
    assert client.order.all({"skip": 10})["count"] == 2


# Payments


def test_payments_fetch_list_edit_and_expand(client, buy):
    card = buy(10000, method="card")
    upi = buy(20000, method="upi")
    failed = buy(30000, method="netbanking", outcome="failure")
    wallet = buy(40000, method="wallet")
    for payment in (card, upi, failed, wallet):
        assert_payment(payment)
    assert card["card_id"] and ID["card"].fullmatch(card["card_id"])
    assert card["acquirer_data"]["auth_code"].isdigit()
    assert re.fullmatch(r"[0-9]{12}", upi["acquirer_data"]["rrn"])
    assert upi["upi"]["vpa"] == upi["vpa"] == "success@razorpay"
    assert failed["status"] == "failed" and failed["error_code"] == "BAD_REQUEST_ERROR"

    listed = assert_collection(client.payment.all(), "payment", 4)
    assert [p["id"] for p in listed] == [wallet["id"], failed["id"], upi["id"], card["id"]]
    assert [p["id"] for p in client.payment.all({"count": 2, "skip": 1})["items"]] == [
        failed["id"], upi["id"]]

    expanded = client.payment.fetch(card["id"], {"expand[]": ["card", "emi", "offers"]})
    assert_payment(expanded, *DOCUMENTED_FIELDS["payment.expanded"])
    assert_entity("card", expanded["card"])
    assert (expanded["card"]["id"], expanded["card"]["last4"], expanded["card"]["network"]) == (
        card["card_id"], "1111", "Visa")
    assert expanded["emi"] is None
    assert expanded["offers"] == {"entity": "collection", "count": 0, "items": []}
    assert client.payment.fetch(upi["id"], {"expand[]": "card"})["card"] is None
    assert refused(client.payment.fetch, card["id"], {"expand[]": "bank"}) == (
        "bank is not a valid expand value")
    assert_entity("card", client.payment.fetchCardDetails(card["id"]))
    assert refused(client.payment.fetchCardDetails, upi["id"]) == (
        "The payment was not made using a card")

    edited = client.payment.edit(card["id"], {"notes": {"ticket": "T-1"}})
    assert_payment(edited)
    assert client.payment.fetch(card["id"])["notes"] == {"ticket": "T-1"}
    assert "status is/are not required" in refused(
        client.payment.edit, card["id"], {"notes": {}, "status": "captured"})


def test_capture_and_refunds_of_a_payment(client, buy):
    payment = buy(50000, capture=False)
    assert payment["status"] == "authorized"
    captured = client.payment.capture(payment["id"], 50000, {"currency": "INR"})
    assert_payment(captured)
    assert captured["status"] == "captured"
    first = client.payment.refund(payment["id"], {"amount": 1000, "notes": {"why": "a"}})
    assert_entity("refund", first)
    second = client.payment.refund(payment["id"], {"amount": "2000"})
    third = client.refund.create({"payment_id": payment["id"], "amount": 3000})
    assert_entity("refund", third)
    assert third["payment_id"] == payment["id"]

    refunds = assert_collection(client.payment.fetch_multiple_refund(payment["id"]), "refund", 3)
    assert [r["id"] for r in refunds] == [third["id"], second["id"], first["id"]]
    assert [r["id"] for r in client.payment.fetch_multiple_refund(
        payment["id"], {"count": 1, "skip": 1})["items"]] == [second["id"]]
    assert client.payment.fetch_refund_id(payment["id"], first["id"]) == client.refund.fetch(
        first["id"])
    other = buy(10000)
    assert refused(client.payment.fetch_refund_id, other["id"], first["id"]) == (
        "The id provided does not exist")
    assert client.payment.fetch(payment["id"])["amount_refunded"] == 6000
    assert refused(client.refund.create, {"amount": 100}) == "The payment id field is required."


def test_refunds_list_fetch_and_edit(client, buy):
    payment = buy(10000)
    refund = client.payment.refund(payment["id"], {"amount": 500})
    assert_entity("refund", client.refund.fetch(refund["id"]))
    (listed,) = assert_collection(client.refund.all(), "refund", 1)
    assert listed["id"] == refund["id"]
    assert client.refund.all({"from": int(time.time()) + 5})["count"] == 0
    edited = client.refund.edit(refund["id"], {"notes": {"ticket": "R-9"}})
    assert_entity("refund", edited)
    assert client.refund.fetch(refund["id"])["notes"] == {"ticket": "R-9"}


# Customers


def test_customers_create_fetch_edit_and_list(client):
    alice = client.customer.create({"name": "Alice Rao", "email": "alice@example.com",
                                    "contact": "+919000000001", "notes": {"plan": "gold"}})
    assert_entity("customer", alice)
    assert (alice["name"], alice["email"], alice["contact"], alice["gstin"], alice["notes"]) == (
        "Alice Rao", "alice@example.com", "+919000000001", None, {"plan": "gold"})
    assert refused(client.customer.create, {"name": "Alice Rao", "email": "alice@example.com",
                                            "contact": "+919000000001"}) == (
        "Customer already exists for the merchant")
    again = client.customer.create({"name": "Alice R", "email": "alice@example.com",
                                    "contact": "+919000000001", "fail_existing": "0"})
    assert again == alice
    assert client.customer.fetch(alice["id"]) == alice

    edited = client.customer.edit(alice["id"], {"email": "alice@rao.example"})
    assert_entity("customer", edited)
    assert (edited["email"], edited["name"]) == ("alice@rao.example", "Alice Rao")
    time.sleep(0.01)
    bob = client.customer.create({"name": "Bob", "email": "bob@example.com"})
    listed = assert_collection(client.customer.all(), "customer", 2)
    assert [c["id"] for c in listed] == [bob["id"], alice["id"]]
    assert [c["id"] for c in client.customer.all({"count": 1, "skip": 1})["items"]] == [
        alice["id"]]
    assert refused(client.customer.create, {"email": "x@example.com"}) == (
        "The name field is required.")
    assert refused(client.customer.create, {"name": "Carol", "email": "not-an-email"}) == (
        "The email must be a valid email address.")
    assert refused(client.customer.fetch, "cust_00000000000000") == (
        "The id provided does not exist")


# What Razorpay accepts


def test_form_bodies_numeric_strings_and_a_trailing_slash(base_url):
    http = requests.Session()
    http.auth = KEY
    order = http.post(f"{base_url}/v1/orders/", data={
        "amount": "50000", "currency": "INR", "receipt": "form-1", "notes[sku]": "coins",
        "notes[batch]": "7", "payment_capture": "1",
    }, timeout=10)
    assert order.status_code == 200, order.text
    assert_entity("order", order.json())
    assert (order.json()["amount"], order.json()["notes"]) == (
        50000, {"sku": "coins", "batch": "7"})
    fetched = http.get(f"{base_url}/v1/orders/{order.json()['id']}/", timeout=10)
    assert fetched.json() == order.json()
    as_json = http.post(f"{base_url}/v1/orders", json={"amount": "1000", "currency": "INR"},
                        timeout=10)
    assert as_json.json()["amount"] == 1000
    bad = http.post(f"{base_url}/v1/orders", data={"amount": "ten", "currency": "INR"},
                    timeout=10)
    assert bad.status_code == 400
    error = bad.json()["error"]
    assert list(error) == DOCUMENTED_FIELDS["error"]
    assert (error["code"], error["description"], error["field"]) == (
        "BAD_REQUEST_ERROR", "The amount must be an integer.", "amount")


def test_a_wrong_key_is_refused_with_razorpays_message(base_url):
    client = razorpay.Client(auth=(SANDBOX_KEY_ID, "wrong"), base_url=base_url)
    assert refused(client.order.all) == "The api key/secret provided is invalid"
    assert refused(client.customer.fetch, "cust_00000000000000") == (
        "The api key/secret provided is invalid")
