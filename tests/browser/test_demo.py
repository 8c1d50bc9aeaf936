"""The demo app in a real browser: buying, failing and retrying, dismissing, gifting,
refunding, and waiting for a capture that the webhooks bring late."""

from __future__ import annotations

import re
import time

FRAME = "iframe.razorpay-checkout-frame"


def wait_for(predicate, timeout: float = 15.0):
    deadline = time.monotonic() + timeout
    while not predicate():
        assert time.monotonic() < deadline, "timed out waiting"
        time.sleep(0.1)


def test_a_card_purchase_from_the_catalog_to_a_confirmed_balance(demo, client, user):
    page = demo.page
    demo.sign_in(user)
    popular = page.locator("article[data-sku='coins.popular']")
    assert "+100 bonus (20%)" in popular.inner_text()
    assert "Popular" in popular.inner_text()
    assert "₹10.00 per credit" in page.locator("article[data-sku='credits.basic']").inner_text()
    demo.shot(page, "catalog")

    demo.buy("Popular Pack")
    assert demo.checkout.get_by_role("button", name="Pay ₹449.00").is_visible()
    demo.checkout.get_by_label("Card number").fill("4111 1111 1111 1111")
    demo.checkout.get_by_label("Expiry (MM/YY)").fill("12/30")
    demo.checkout.get_by_label("CVV").fill("123")
    demo.shot(page, "checkout-card")
    demo.checkout.get_by_role("button", name="Pay ₹449.00").click()

    demo.wait_confirmed()
    assert page.locator(FRAME).count() == 0
    wait_for(lambda: "600 coins" in demo.balances())
    demo.shot(page, "confirmed")

    page.get_by_role("link", name="Wallet", exact=True).click()
    page.locator("table").get_by_text("Purchase of Popular Pack").wait_for()
    assert page.locator("[data-asset=coins]").inner_text().endswith("600")
    demo.shot(page, "wallet")

    assert client.wallet(user) == {"coins": 600, "credits": 0}
    [order] = client.orders(user)
    assert order["status"] == "paid" and order["isConfirmed"]
    [payment] = client.sandbox_payments(order["razorpayOrderId"])
    assert payment["status"] == "captured" and payment["method"] == "card"
    assert payment["email"] == f"{user}@example.com"
    card = client.razorpay(f"/payments/{payment['id']}/card")
    assert card["id"] == payment["card_id"]
    assert (card["last4"], card["network"]) == ("1111", "Visa")


def test_a_declined_card_then_a_successful_retry(demo, client, user):
    page = demo.page
    demo.sign_in(user)
    demo.buy("Starter Pack")
    demo.pay_by_card("4000 0000 0000 0002")
    failed = demo.status.get_by_text("Payment failed:")
    failed.wait_for()
    assert "declined" in demo.status.inner_text()
    assert page.locator(FRAME).count() == 0
    demo.shot(page, "payment-failed")

    demo.status.get_by_role("button", name="Try again").click()
    demo.checkout.get_by_label("Card number").wait_for()
    demo.shot(page, "retry-checkout")
    demo.pay_by_card("4111 1111 1111 1111")
    demo.wait_confirmed()
    demo.shot(page, "retry-confirmed")

    assert client.wallet(user)["coins"] == 100
    second, first = client.orders(user)
    assert first["payment"]["status"] == "failed" and first["status"] != "paid"
    assert second["retryOf"] == first["id"] and second["attemptCount"] == 2
    assert second["status"] == "paid"
    [declined] = client.sandbox_payments(first["razorpayOrderId"])
    assert declined["status"] == "failed" and declined["error_reason"] == "payment_failed"
    assert client.razorpay(f"/payments/{declined['id']}/card")["last4"] == "0002"


def test_a_upi_purchase(demo, client, user):
    demo.sign_in(user)
    demo.buy("Basic Pack")
    demo.pay_by_upi("success@razorpay")
    demo.wait_confirmed()
    demo.shot(demo.page, "upi-confirmed")
    assert client.wallet(user)["coins"] == 290
    [order] = client.orders(user)
    [payment] = client.sandbox_payments(order["razorpayOrderId"])
    assert (payment["method"], payment["vpa"], payment["status"]) == (
        "upi", "success@razorpay", "captured")


def test_dismissing_the_modal_charges_nothing_and_the_order_stays_payable(demo, client, user):
    page = demo.page
    demo.sign_in(user)
    demo.buy("Starter Pack")
    demo.checkout.get_by_role("button", name="Close checkout").click()
    demo.status.get_by_text("Nothing was charged").wait_for()
    assert page.locator(FRAME).count() == 0
    demo.shot(page, "dismissed")

    [order] = client.orders(user)
    assert order["status"] == "created" and order["payment"] is None
    assert client.sandbox_payments(order["razorpayOrderId"]) == []
    assert client.wallet(user)["coins"] == 0

    demo.status.get_by_role("button", name="Pay now").click()
    demo.pay_by_card("4111 1111 1111 1111")
    demo.wait_confirmed()
    [same] = client.orders(user)
    assert same["id"] == order["id"] and same["status"] == "paid"
    assert client.wallet(user)["coins"] == 100


def test_a_gift_to_a_friend(demo, client, user):
    client.buy(user)
    page = demo.page
    demo.sign_in(user)
    page.get_by_role("link", name="Gift coins").click()
    page.get_by_label("Friend's user id").fill(f"{user}friend")
    page.get_by_label("Coins").fill("50")
    page.get_by_label("Note (optional)").fill("Happy birthday")
    page.get_by_role("button", name="Send gift").click()
    page.get_by_text(f"Sent 50 coins to {user}friend. Your balance: 550 coins.").wait_for()
    wait_for(lambda: "550 coins" in demo.balances())
    demo.shot(page, "gift-sent")
    assert client.wallet(user)["coins"] == 550
    assert client.wallet(f"{user}friend")["coins"] == 50


def test_an_admin_refunds_part_of_an_order_and_sees_the_clawback(demo, client, user):
    order = client.buy(user)
    page = demo.page
    demo.sign_in(f"{user}admin", admin=True)
    page.get_by_role("link", name="Orders & refunds").click()
    page.get_by_label("Customer's user id").fill(user)
    page.get_by_role("button", name="Show orders").click()
    page.get_by_role("button", name=f"Refund Popular Pack ({order['id']})").click()
    page.get_by_label("Amount (₹)").fill("100")
    page.get_by_label("Reason").fill("Customer asked")
    page.get_by_role("button", name="Refund", exact=True).click()
    message = page.get_by_text(re.compile(r"^Refund (processed|pending): ₹100\.00"))
    message.wait_for()
    assert "Clawed back 133 coins" in message.inner_text()
    page.locator("li[data-refund]").get_by_text("Clawed back: 133 coins").wait_for()
    demo.shot(page, "partial-refund")
    assert client.wallet(user)["coins"] == 600 - 133
    [refunded] = client.get(f"/orders/{order['id']}/refunds", user)["items"]
    assert refunded["amount"] == 10000 and refunded["clawedBack"] == {"coins": 133}


def test_an_admin_sees_webhooks_and_runs_reconcile(demo, client, user):
    client.buy(user)
    page = demo.page
    demo.sign_in(f"{user}admin", admin=True)
    page.get_by_role("link", name="Webhooks").click()
    page.get_by_label("Show").select_option("")
    page.locator("tr[data-delivery]").first.wait_for()
    assert "order.paid" in page.locator("table").inner_text()
    page.get_by_role("link", name="Reconcile").click()
    page.get_by_role("button", name="Run reconcile now").click()
    page.get_by_text(re.compile(r"^Checked \d+ orders; changed \d+\.")).wait_for()
    demo.shot(page, "reconcile")


def test_with_webhooks_late_the_page_shows_processing_then_confirms_without_reload(
        context, late_server, shot, user, demo_on, client_on):
    page = context.new_page()
    late = demo_on(page, late_server)
    late.sign_in(user)
    page.evaluate("window.__notReloaded = true")
    late.buy("Popular Pack")
    late.pay_by_card("4111 1111 1111 1111")
    late.status.get_by_text("Processing…").wait_for()
    shot(page, "processing")
    # Verify found the payment authorized, not yet captured.
    late_client = client_on(late_server)
    wait_for(lambda: late_client.orders(user)[0]["status"] != "created")
    order = late_client.orders(user)[0]
    assert order["status"] == "verified" and not order["isConfirmed"]
    late.wait_confirmed(timeout=20000)
    shot(page, "confirmed-late")
    assert page.evaluate("window.__notReloaded") is True
    assert late_client.wallet(user)["coins"] == 600
