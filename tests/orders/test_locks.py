"""Verify asks the gateway before it writes: nothing is locked while Razorpay answers."""

import pytest
import sqlalchemy as sa
import webtest

PREFIX = "/api/payments"


@pytest.fixture
def app(settings, kit, gateway):
    return kit.make_app(settings, gateway)


@pytest.fixture
def testapp(app):
    return webtest.TestApp(app, extra_environ={"HTTP_HOST": "localhost:80"})


def test_verify_holds_no_lock_while_the_gateway_answers(testapp, auth, kit, gateway,
                                                        dbsession, engine):
    order = kit.make_order(dbsession)
    payment = gateway.add(kit.payment_entity(order.razorpay_order_id))
    fetch, touched = gateway.fetch_payment, []

    def fetch_while_someone_writes(payment_id):
        with engine.connect() as conn:
            if engine.dialect.name == "postgresql":
                conn.exec_driver_sql("SET lock_timeout = '500ms'")
            else:
                conn.exec_driver_sql("PRAGMA busy_timeout = 500")
            conn.execute(sa.text("UPDATE orders SET title = 'touched' WHERE id = :id"),
                         {"id": order.id})
            conn.commit()
        touched.append(payment_id)
        return fetch(payment_id)

    gateway.fetch_payment = fetch_while_someone_writes
    verified = testapp.post_json(f"{PREFIX}/verify", {
        "razorpay_order_id": order.razorpay_order_id,
        "razorpay_payment_id": payment["id"], "razorpay_signature": "good",
    }, headers=auth("alice")).json
    assert verified["status"] == "paid"
    assert touched == [payment["id"]]
