"""The sandbox's checkout.js against pages that know nothing of this project: Razorpay's
documented example, the key checks, the test inputs, and the keyboard."""

from __future__ import annotations

import hashlib
import hmac
import re
import time
from pathlib import Path

import pytest

from banter_payments.sandbox.checkout.services import AMOUNT_DIFFERS
from banter_payments.settings import SANDBOX_KEY_ID, SANDBOX_KEY_SECRET

FRAME = "iframe.razorpay-checkout-frame"
LOGO = bytes.fromhex(
    "89504e470d0a1a0a0000000d4948445200000001000000010806000000"
    "1f15c4890000000d49444154789c6360f8cfc0000003010100c9fe92ef0000000049454e44ae426082"
)

# Razorpay's documented Checkout example (Standard Integration), as published: only the
# script's URL and the three values a merchant fills in (key, amount, order id) differ,
# written as {{script}}, {{key}}, {{amount}} and {{order_id}}.
RAZORPAY_EXAMPLE = (Path(__file__).parent / "pages" / "razorpay_example.html").read_text()

# A page that records what Checkout tells it, for the checks below.
PROBE = """<!doctype html>
<html><body>
<button id="before">A button on the page</button>
<script src="{script}"></script>
<script>
window.events = [];
window.start = function (options) {{
  options.handler = function (response) {{ events.push(["handler", response]); }};
  options.modal = Object.assign({{}}, options.modal || {{}}, {{
    ondismiss: function () {{ events.push(["dismiss"]); }} }});
  window.rzp = new Razorpay(options);
  rzp.on("payment.failed", function (response) {{ events.push(["failed", response.error]); }});
  rzp.open();
}};
</script>
</body></html>
"""


def signature(order_id: str, payment_id: str) -> str:
    message = f"{order_id}|{payment_id}".encode()
    return hmac.new(SANDBOX_KEY_SECRET.encode(), message, hashlib.sha256).hexdigest()


def wait_for(page, predicate, timeout: float = 15.0):
    """Poll ``predicate``, letting the page's events (dialogs, messages) run meanwhile."""
    deadline = time.monotonic() + timeout
    while True:
        value = predicate()
        if value:
            return value
        assert time.monotonic() < deadline, "timed out waiting"
        page.wait_for_timeout(50)


@pytest.fixture
def script(server) -> str:
    return f"{server.url}/api/payments/_sandbox/razorpay/v1/checkout.js"


@pytest.fixture
def merchant_page(page, merchant, script):
    """The page, allowed to load the merchant's origin besides the app's."""
    from urllib.parse import urlsplit

    page.allowed_hosts.add(urlsplit(merchant.url).netloc)
    merchant.pages["/probe"] = PROBE.format(script=script)
    return page


def customer(options: dict, **extra) -> dict:
    """Checkout options with the customer's contact prefilled, as most merchants do."""
    prefill = {"email": "gaurav.kumar@example.com", "contact": "9000090000"}
    return dict(options, prefill=prefill, **extra)


def probe(page, merchant, options: dict) -> None:
    page.goto(f"{merchant.url}/probe")
    page.evaluate("options => window.start(options)", customer(options))


def events(page) -> list:
    return page.evaluate("window.events")


def pay_card(frame, number: str) -> None:
    frame.get_by_label("Card number").fill(number)
    frame.get_by_label("Expiry (MM/YY)").fill("11/31")
    frame.get_by_label("CVV").fill("321")
    frame.get_by_role("button", name=re.compile("^Pay ")).click()


def test_razorpays_documented_example_runs_unchanged(merchant_page, merchant, script, client,
                                                    user, shot):
    page = merchant_page
    # The example's logo URL is answered here, so nothing leaves the machine.
    page.allowed_hosts.add("example.com")
    page.route("https://example.com/**",
               lambda route: route.fulfill(status=200, content_type="image/png", body=LOGO))
    alerts: list[str] = []
    page.on("dialog", lambda dialog: (alerts.append(dialog.message), dialog.accept()))

    order = client.order(user, "coins.popular")
    values = {"script": script, "key": SANDBOX_KEY_ID, "amount": str(order["amount"]),
              "order_id": order["razorpayOrderId"]}
    merchant.pages["/example"] = re.sub(r"\{\{(\w+)\}\}", lambda m: values[m[1]],
                                        RAZORPAY_EXAMPLE)
    page.goto(f"{merchant.url}/example")
    page.click("#rzp-button1")
    frame = page.frame_locator(FRAME)
    frame.get_by_role("heading", name="Acme Corp").wait_for()
    assert frame.get_by_label("Email").input_value() == "gaurav.kumar@example.com"
    shot(page, "razorpay-example")

    pay_card(frame, "4000 0000 0000 0002")
    wait_for(page, lambda: len(alerts) == 7)
    code, description, source, step, reason, order_id, payment_id = alerts
    assert (code, source, step, reason) == (
        "BAD_REQUEST_ERROR", "customer", "payment_authentication", "payment_failed")
    assert "declined" in description and order_id == order["razorpayOrderId"]
    assert payment_id.startswith("pay_")
    # Retry is on by default: the modal stays open and offers another try.
    frame.get_by_role("heading", name="Payment failed").wait_for()
    shot(page, "razorpay-example-failed")
    frame.get_by_role("button", name="Retry").click()
    pay_card(frame, "4111 1111 1111 1111")

    wait_for(page, lambda: len(alerts) == 10)
    paid_id, paid_order, paid_signature = alerts[7:]
    assert paid_order == order["razorpayOrderId"]
    assert paid_signature == signature(paid_order, paid_id)
    assert page.locator(FRAME).count() == 0
    payments = {p["id"]: p for p in client.sandbox_payments(order["razorpayOrderId"])}
    assert payments[payment_id]["status"] == "failed"
    assert payments[paid_id]["status"] == "captured"
    assert payments[paid_id]["notes"] == {"address": "Razorpay Corporate Office"}
    assert payments[paid_id]["description"] == "Test Transaction"

    # The signature is what this service's own verify expects.
    headers = client.token(user)
    verified = client.http.post(f"{client.base}/api/payments/verify", headers=headers, json={
        "razorpay_order_id": paid_order, "razorpay_payment_id": paid_id,
        "razorpay_signature": paid_signature}, timeout=10)
    assert verified.status_code == 200 and verified.json()["status"] == "paid"


def test_checkout_needs_a_key(merchant_page, merchant):
    merchant_page.goto(f"{merchant.url}/probe")
    error = merchant_page.evaluate(
        "() => { try { new Razorpay({amount: 100}); } catch (e) { return e.message; } }")
    assert error == "No key passed"


@pytest.mark.parametrize("case", ["wrong key", "unknown order", "paid order"])
def test_checkout_refuses_before_payment(merchant_page, merchant, client, user, shot, case):
    page = merchant_page
    order = client.order(user)
    options = dict(order["checkout"])
    expected = {
        "wrong key": "The api key provided is invalid",
        "unknown order": "The id provided does not exist",
        "paid order": "Order has already been paid",
    }[case]
    if case == "wrong key":
        options["key"] = "rzp_test_notthesandboxkey"
    elif case == "unknown order":
        options["order_id"] = "order_doesnotexist000"
    else:
        paid = client.buy(user)
        options = client.order(user) and dict(options, order_id=paid["razorpayOrderId"],
                                               amount=paid["amount"])
    probe(page, merchant, options)
    frame = page.frame_locator(FRAME)
    frame.get_by_role("heading", name="Oops! Something went wrong.").wait_for()
    assert frame.locator("#fatal-message").inner_text() == expected
    assert frame.get_by_label("Card number").is_hidden()
    shot(page, case.replace(" ", "-"))
    frame.get_by_role("button", name="Close", exact=True).click()
    wait_for(page, lambda: events(page) == [["dismiss"]])
    assert page.locator(FRAME).count() == 0


def test_an_amount_differing_from_the_orders_fails_the_payment(merchant_page, merchant, client,
                                                               user):
    page = merchant_page
    order = client.order(user)
    probe(page, merchant, dict(order["checkout"], amount=order["amount"] - 100))
    pay_card(page.frame_locator(FRAME), "4111 1111 1111 1111")
    [[kind, error]] = wait_for(page, lambda: events(page))
    assert kind == "failed"
    assert error["description"] == AMOUNT_DIFFERS
    assert error["metadata"]["order_id"] == order["razorpayOrderId"]
    assert client.sandbox_payments(order["razorpayOrderId"]) == []


def test_netbanking_and_wallets_go_through_a_bank_page(merchant_page, merchant, client, user):
    page = merchant_page
    order = client.order(user)
    probe(page, merchant, order["checkout"])
    frame = page.frame_locator(FRAME)
    frame.get_by_role("radio", name="Netbanking").check()
    frame.get_by_label("Choose your bank").select_option("ICIC")
    frame.get_by_role("button", name=re.compile("^Pay ")).click()
    frame.get_by_role("button", name="Failure").click()
    [[kind, error]] = wait_for(page, lambda: events(page))
    assert kind == "failed" and error["metadata"]["payment_id"].startswith("pay_")

    frame.get_by_role("button", name="Retry").click()
    frame.get_by_role("radio", name="Wallet").check()
    frame.get_by_label("Choose your wallet").select_option("phonepe")
    frame.get_by_role("button", name=re.compile("^Pay ")).click()
    frame.get_by_role("button", name="Success").click()
    wait_for(page, lambda: len(events(page)) == 2)
    kind, response = events(page)[1]
    assert kind == "handler"
    payments = {p["id"]: p for p in client.sandbox_payments(order["razorpayOrderId"])}
    failed = payments[error["metadata"]["payment_id"]]
    assert (failed["method"], failed["bank"], failed["status"]) == ("netbanking", "ICIC", "failed")
    paid = payments[response["razorpay_payment_id"]]
    assert (paid["method"], paid["wallet"], paid["status"]) == ("wallet", "phonepe", "captured")


def test_malformed_inputs_are_refused_in_the_form(merchant_page, merchant, client, user):
    page = merchant_page
    order = client.order(user)
    probe(page, merchant, order["checkout"])
    frame = page.frame_locator(FRAME)
    pay_card(frame, "4111 1111 1111 1112")
    frame.get_by_text("Your card number is invalid.").wait_for()
    assert frame.get_by_label("Card number").get_attribute("aria-invalid") == "true"
    frame.get_by_role("radio", name="UPI").check()
    frame.get_by_label("UPI ID").fill("not a vpa")
    frame.get_by_role("button", name=re.compile("^Pay ")).click()
    frame.get_by_text(re.compile("^Invalid VPA")).wait_for()
    assert events(page) == []
    assert client.sandbox_payments(order["razorpayOrderId"]) == []


def test_labels_focus_and_the_keyboard(merchant_page, merchant, client, user, shot):
    page = merchant_page
    order = client.order(user)
    page.goto(f"{merchant.url}/probe")
    page.focus("#before")
    page.evaluate("options => window.start(options)", customer(order["checkout"]))
    frame_element = page.locator(FRAME)
    frame = page.frame_locator(FRAME)
    frame.get_by_label("Card number").wait_for()

    # Every control in the modal has a name a screen reader can read.
    unlabelled = frame.locator("body").evaluate("""() => Array.from(
        document.querySelectorAll('input, select, button')).filter(el =>
          !(el.labels && el.labels.length) && !el.getAttribute('aria-label')
          && !el.textContent.trim()).map(el => el.outerHTML)""")
    assert unlabelled == []
    assert frame.get_by_role("dialog").get_attribute("aria-modal") == "true"

    # Focus moves into the modal (to the first empty field) and Tab keeps it there.
    wait_for(page, lambda: frame.locator("body").evaluate("() => document.activeElement.id")
             == "card-number")
    for _ in range(14):
        page.keyboard.press("Tab")
        assert page.evaluate("document.activeElement.tagName") == "IFRAME"
    for _ in range(3):
        page.keyboard.press("Shift+Tab")
        assert page.evaluate("document.activeElement.tagName") == "IFRAME"

    # Escape dismisses; focus returns to where it was.
    page.keyboard.press("Escape")
    wait_for(page, lambda: events(page) == [["dismiss"]])
    assert frame_element.count() == 0
    assert page.evaluate("document.activeElement.id") == "before"

    # With modal.escape false, Escape does nothing; the keyboard alone pays.
    page.evaluate("options => window.start(options)",
                  customer(order["checkout"], modal={"escape": False}))
    frame.get_by_label("Card number").wait_for()
    wait_for(page, lambda: frame.locator("body").evaluate("() => document.activeElement.id")
             == "card-number")
    page.keyboard.press("Escape")
    page.keyboard.type("4111111111111111")
    page.keyboard.press("Tab")
    page.keyboard.type("10/32")
    page.keyboard.press("Tab")
    page.keyboard.type("999")
    shot(page, "keyboard")
    page.keyboard.press("Enter")
    wait_for(page, lambda: len(events(page)) == 2)
    kind, response = events(page)[1]
    assert kind == "handler"
    assert response["razorpay_signature"] == signature(response["razorpay_order_id"],
                                                       response["razorpay_payment_id"])


def subscription_signature(payment_id: str, subscription_id: str) -> str:
    message = f"{payment_id}|{subscription_id}".encode()
    return hmac.new(SANDBOX_KEY_SECRET.encode(), message, hashlib.sha256).hexdigest()


def sandbox_subscription(client) -> dict:
    """A plan and a subscription made in the sandbox with the sandbox key, as a merchant's
    server makes them before opening Checkout with ``subscription_id``."""
    import base64

    auth = base64.b64encode(f"{SANDBOX_KEY_ID}:{SANDBOX_KEY_SECRET}".encode()).decode()
    headers = {"Authorization": f"Basic {auth}"}
    base = f"{client.base}/api/payments/_sandbox/razorpay/v1"
    plan = client.http.post(f"{base}/plans", headers=headers, timeout=10, json={
        "period": "monthly", "interval": 1,
        "item": {"name": "Gold", "amount": 29900, "currency": "INR"}})
    assert plan.status_code == 200, plan.text
    sub = client.http.post(f"{base}/subscriptions", headers=headers, timeout=10, json={
        "plan_id": plan.json()["id"], "total_count": 6})
    assert sub.status_code == 200, sub.text
    return sub.json()


def test_a_subscription_is_authenticated_as_razorpays_checkout_does(merchant_page, merchant,
                                                                   client, shot):
    page = merchant_page
    sub = sandbox_subscription(client)
    options = {"key": SANDBOX_KEY_ID, "subscription_id": sub["id"], "name": "Acme Corp",
               "description": "Gold, monthly"}
    probe(page, merchant, options)
    frame = page.frame_locator(FRAME)
    # The modal shows the plan's amount: the first cycle is charged with the mandate.
    frame.get_by_role("button", name="Pay ₹299.00").wait_for()
    shot(page, "subscription-checkout")
    pay_card(frame, "4000 0000 0000 0002")
    [(kind, error)] = wait_for(page, lambda: events(page))
    assert kind == "failed" and error["reason"] == "payment_failed"
    assert error["metadata"]["subscription_id"] == sub["id"]
    frame.get_by_role("button", name="Retry").click()
    pay_card(frame, "4111 1111 1111 1111")

    wait_for(page, lambda: len(events(page)) == 2)
    kind, response = events(page)[1]
    assert kind == "handler"
    assert set(response) == {"razorpay_payment_id", "razorpay_subscription_id",
                             "razorpay_signature"}
    assert response["razorpay_subscription_id"] == sub["id"]
    assert response["razorpay_signature"] == subscription_signature(
        response["razorpay_payment_id"], sub["id"])
    assert page.locator(FRAME).count() == 0
    assert client.razorpay(f"/subscriptions/{sub['id']}")["status"] == "active"

    # Authenticated once, the same subscription is refused before any payment.
    probe(page, merchant, options)
    frame = page.frame_locator(FRAME)
    frame.get_by_text("Subscription has already been authenticated").wait_for()
    shot(page, "subscription-already-authenticated")
