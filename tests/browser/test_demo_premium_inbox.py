"""The demo's plugin pages in a real browser: premium plans bought through the sandbox
Checkout with ``subscription_id`` and cancelled, the notification inbox, and the pages
left out when their plugins are off."""

from __future__ import annotations

import re
from urllib.parse import urlsplit

import pytest

from .conftest import PLUGINS, app_settings, serve_app, wait_for

MONTHLY = "Banter Premium (monthly)"


@pytest.fixture
def plugged_server(database_url, sandbox_url, server, tmp_path):
    """The app with the subscriptions and notifications plugins on (the shared server
    has neither). As for ``late_server``, the sandbox's worker is stopped around it."""
    from banter_payments.sandbox.worker import pending_webhooks, stop_workers

    wait_for(lambda: pending_webhooks(server.app) == 0, timeout=20)
    stop_workers()
    live = serve_app(app_settings(database_url, sandbox_url, **{
        "banter_payments.plugins": f"{PLUGINS}\nbanter_notifications\nbanter_subscriptions",
        "subscriptions.check_interval_seconds": "0",
        "notifications.mail_directory": str(tmp_path / "mail"),
    }))
    yield live
    wait_for(lambda: pending_webhooks(live.app) == 0, timeout=20)
    stop_workers()
    live.close()


@pytest.fixture
def plugged(page, plugged_server, demo_on, client_on):
    page.allowed_hosts.add(urlsplit(plugged_server.url).netloc)
    return demo_on(page, plugged_server), client_on(plugged_server)


def test_subscribing_to_premium_through_checkout_then_cancelling(plugged, user):
    demo, client = plugged
    page = demo.page
    demo.sign_in(user)
    page.get_by_role("heading", name="Premium plans").wait_for()
    monthly = page.locator("article[data-sku='premium.monthly']")
    assert "₹99.00 per month" in monthly.inner_text()
    assert "₹999.00 per year" in page.locator("article[data-sku='premium.yearly']").inner_text()
    monthly.scroll_into_view_if_needed()
    demo.shot(page, "premium-plans")

    page.get_by_role("button", name=f"Subscribe to {MONTHLY} for ₹99.00 per month").click()
    demo.checkout.get_by_label("Card number").wait_for()
    assert demo.checkout.get_by_role("button", name="Pay ₹99.00").is_visible()
    demo.shot(page, "subscription-checkout")
    demo.pay_by_card("4111 1111 1111 1111")
    demo.status.get_by_text("Premium active until").wait_for()
    assert page.locator("iframe.razorpay-checkout-frame").count() == 0
    demo.shot(page, "premium-active")

    premium = client.get("/subscriptions/premium", user)
    assert premium["isPremium"] and premium["plan"] == "premium.monthly"
    [sub] = client.get("/subscriptions", user)["items"]
    assert (sub["status"], sub["paidCount"]) == ("active", 1)
    assert client.razorpay(f"/subscriptions/{sub['razorpaySubscriptionId']}")["status"] == \
        "active"

    page.get_by_role("link", name="Premium", exact=True).click()
    page.locator("#premium-status").get_by_text("Premium is active until").wait_for()
    row = page.locator(f"tr[data-subscription='{sub['id']}']")
    assert MONTHLY in row.inner_text() and "1 of 120" in row.inner_text()
    demo.shot(page, "premium-page")

    # Cancelled from the keyboard: premium stays to the end of the paid cycle.
    page.get_by_role("button", name=f"Cancel {MONTHLY} at the end of the paid period").focus()
    page.keyboard.press("Enter")
    demo.status.get_by_text("Renewal cancelled: premium stays until").wait_for()
    row.get_by_text("active, renewal cancelled").wait_for()
    demo.shot(page, "renewal-cancelled")
    shown = client.get(f"/subscriptions/{sub['id']}", user)
    assert shown["cancelAtCycleEnd"] and shown["status"] == "active"
    assert client.get("/subscriptions/premium", user)["isPremium"]
    assert page.get_by_role("button", name=re.compile("at the end of the paid period")).count() \
        == 0

    page.get_by_role("button", name=f"Cancel {MONTHLY} now").click()
    demo.status.get_by_text("Subscription cancelled (cancelled).").wait_for()
    assert client.get(f"/subscriptions/{sub['id']}", user)["status"] == "cancelled"
    assert client.razorpay(f"/subscriptions/{sub['razorpaySubscriptionId']}")["status"] == \
        "cancelled"
    assert row.get_by_role("button").count() == 0
    demo.shot(page, "cancelled")


def test_a_purchase_notification_reaches_the_inbox_and_is_marked_read(plugged, user):
    demo, client = plugged
    page = demo.page
    demo.sign_in(user)
    inbox = page.get_by_role("link", name=re.compile("^Inbox"))
    badge = page.locator("#unread")
    assert inbox.is_visible() and badge.is_hidden()

    demo.buy("Starter Pack")
    demo.pay_by_card("4111 1111 1111 1111")
    demo.wait_confirmed()
    badge.wait_for()
    assert badge.locator(".count").inner_text() == "1"
    # The count is part of the link's name for screen readers.
    page.get_by_role("link", name="Inbox 1 unread").wait_for()
    demo.shot(page, "unread-badge")

    inbox.click()
    page.get_by_role("heading", name="Inbox").wait_for()
    [note] = client.get("/notifications", user)["items"]
    assert note["kind"] == "purchase_succeeded" and not note["read"]
    entry = page.locator(f"li[data-notification='{note['id']}']")
    assert "Starter Pack" in entry.inner_text() and "New" in entry.inner_text()
    demo.shot(page, "inbox")

    mark = entry.get_by_role("button", name=f"Mark read: {note['title']}")
    mark.focus()
    page.keyboard.press("Enter")
    page.locator(f"li[data-notification='{note['id']}'].read").wait_for()
    badge.wait_for(state="hidden")
    assert client.get("/notifications/unread-count", user) == {"unread": 0}
    demo.shot(page, "marked-read")

    # Another purchase (made without the browser), then "Mark all read".
    client.buy(user)
    wait_for(lambda: client.get("/notifications/unread-count", user)["unread"] == 1)
    page.get_by_role("link", name="Shop").click()
    page.get_by_role("link", name="Inbox 1 unread").click()
    page.locator("li.unread").wait_for()
    page.get_by_role("button", name="Mark all read").click()
    demo.status.get_by_text("Marked 1 notification read.").wait_for()
    badge.wait_for(state="hidden")
    assert page.locator("li.unread").count() == 0
    assert client.get("/notifications/unread-count", user) == {"unread": 0}


def test_without_the_plugins_their_pages_are_not_shown(demo, user):
    page = demo.page
    demo.sign_in(user)
    page.get_by_role("heading", name="Coin packs").wait_for()
    nav = page.get_by_role("navigation", name="Main")
    assert nav.get_by_role("link", name="Wallet").is_visible()
    assert nav.get_by_role("link", name="Premium").count() == 0
    assert nav.get_by_role("link", name=re.compile("^Inbox")).count() == 0
    assert page.get_by_role("heading", name="Premium plans").count() == 0
    assert page.get_by_role("button", name=re.compile("^Subscribe")).count() == 0
    # Their addresses lead to the shop.
    for path in ("premium", "inbox"):
        page.goto(f"{demo.base}/demo/#/{path}")
        page.get_by_role("heading", name="Shop").wait_for()
    demo.shot(page, "plugins-off")


def test_a_dismissed_then_declined_subscription_charges_nothing_until_paid(plugged, user):
    demo, client = plugged
    page = demo.page
    demo.sign_in(user)
    page.get_by_role("button", name=f"Subscribe to {MONTHLY} for ₹99.00 per month").click()
    demo.checkout.get_by_label("Card number").wait_for()
    page.keyboard.press("Escape")
    demo.status.get_by_text("Nothing was charged").wait_for()
    [sub] = client.get("/subscriptions", user)["items"]
    assert (sub["status"], sub["paidCount"]) == ("created", 0)
    assert not client.get("/subscriptions/premium", user)["isPremium"]

    demo.status.get_by_role("button", name="Pay now").click()
    demo.pay_by_card("4000 0000 0000 0002")
    demo.status.get_by_text("Payment failed:").wait_for()
    assert page.evaluate("document.activeElement.id") == "try-again"
    demo.shot(page, "subscription-declined")
    assert not client.get("/subscriptions/premium", user)["isPremium"]

    page.keyboard.press("Enter")
    demo.pay_by_card("4111 1111 1111 1111")
    demo.status.get_by_text("Premium active until").wait_for()
    [same] = client.get("/subscriptions", user)["items"]
    assert same["id"] == sub["id"] and same["status"] == "active"
    assert client.get("/subscriptions/premium", user)["isPremium"]
