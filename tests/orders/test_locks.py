"""Verify asks the gateway before it writes: nothing is locked while Razorpay answers."""

import pytest
import webtest

PREFIX = "/api/payments"


@pytest.fixture
def app(settings, kit, gateway):
    return kit.make_app(settings, gateway)


@pytest.fixture
def testapp(app):
    return webtest.TestApp(app, extra_environ={"HTTP_HOST": "localhost:80"})


def test_verify_holds_no_lock_while_the_gateway_answers(testapp, auth, kit, gateway,
                                                        dbsession, touch_order):
    order = kit.make_order(dbsession)
    payment = gateway.add(kit.payment_entity(order.razorpay_order_id))
    fetch, touched = gateway.fetch_payment, []

    def fetch_while_someone_writes(payment_id):
        touch_order(order.id)
        touched.append(payment_id)
        return fetch(payment_id)

    gateway.fetch_payment = fetch_while_someone_writes
    verified = testapp.post_json(f"{PREFIX}/verify", {
        "razorpay_order_id": order.razorpay_order_id,
        "razorpay_payment_id": payment["id"], "razorpay_signature": "good",
    }, headers=auth("alice")).json
    assert verified["status"] == "paid"
    assert touched == [payment["id"]]
