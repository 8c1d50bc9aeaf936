"""Webhooks as the built-in sandbox raises and signs them, through the real route and SDK."""

from __future__ import annotations

import pytest

from banter_payments import main
from tests.common.inbox import flush_webhooks

API = "/api/payments"


@pytest.fixture
def app(settings):
    return main({}, **settings)


def buy(testapp, auth, outcome="success"):
    order = testapp.post_json(f"{API}/orders", {"sku": "coins.popular"},
                              headers=auth("alice")).json
    paid = testapp.post_json(
        f"{API}/_sandbox/razorpay/checkout/{order['razorpayOrderId']}/pay",
        {"outcome": outcome, "method": "upi"}).json
    return order, paid


def shown(testapp, auth, order):
    return testapp.get(f"{API}/orders/{order['id']}", headers=auth("alice")).json


def test_webhooks_alone_pay_the_order(app, testapp, auth, kit, dbsession):
    order, _ = buy(testapp, auth)

    assert flush_webhooks(app, app=app) == 3  # authorized, captured, order.paid

    view = shown(testapp, auth, order)
    assert (view["status"], view["isConfirmed"], view["payment"]["status"]) == (
        "paid", True, "captured")
    assert kit.balance(dbsession, "alice") == 600
    assert sorted(d.event for d in kit.deliveries(dbsession)) == [
        "order.paid", "payment.authorized", "payment.captured"]
    assert {d.outcome for d in kit.deliveries(dbsession)} == {"processed"}


def test_a_failed_checkout_leaves_an_attempted_order(app, testapp, auth):
    order, paid = buy(testapp, auth, outcome="failure")
    assert "error" in paid
    flush_webhooks(app, app=app)
    view = shown(testapp, auth, order)
    assert (view["status"], view["payment"]["status"]) == ("attempted", "failed")


class TestManualCapture:
    @pytest.fixture
    def settings(self, settings):
        return dict(settings, **{"razorpay.capture": "manual"})

    def test_payment_authorized_is_captured_through_the_sdk(self, app, testapp, auth, kit,
                                                            dbsession):
        order, paid = buy(testapp, auth)

        assert flush_webhooks(app, app=app) == 1  # only payment.authorized: ours to capture

        view = shown(testapp, auth, order)
        assert (view["status"], view["payment"]["status"]) == ("paid", "captured")
        remote = testapp.get(
            f"{API}/_sandbox/razorpay/v1/payments/{paid['razorpay_payment_id']}",
            headers={"Authorization": _basic()}).json
        assert (remote["status"], remote["captured"]) == ("captured", True)
        # The capture raised payment.captured and order.paid: they change nothing more.
        assert flush_webhooks(app, app=app) == 2
        assert kit.postings(dbsession, f"order:{order['id']}") == 1
        assert kit.balance(dbsession, "alice") == 600

    def test_a_late_authorization_after_a_failure_is_captured_and_paid(
            self, app, testapp, auth, kit, dbsession):
        order, failed = buy(testapp, auth, outcome="failure")
        flush_webhooks(app, app=app)
        assert shown(testapp, auth, order)["status"] == "attempted"
        payment_id = failed["error"]["metadata"]["payment_id"]

        testapp.post_json(f"{API}/_sandbox/razorpay/payments/{payment_id}/late_authorize", {})
        flush_webhooks(app, app=app)

        view = shown(testapp, auth, order)
        assert (view["status"], view["payment"]["status"]) == ("paid", "captured")
        assert kit.balance(dbsession, "alice") == 600


def _basic() -> str:
    import base64

    from banter_payments.settings import SANDBOX_KEY_ID, SANDBOX_KEY_SECRET

    token = base64.b64encode(f"{SANDBOX_KEY_ID}:{SANDBOX_KEY_SECRET}".encode()).decode()
    return f"Basic {token}"
