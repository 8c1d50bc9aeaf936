"""No signature leaves in an answer, and a signed body is processed once whatever
event id it comes under."""

from __future__ import annotations

import sqlalchemy as sa

from banter_payments.webhooks.models import WebhookDelivery

ADMIN = "/api/payments/admin/webhooks"


def test_a_stored_delivery_is_shown_without_its_signature(kit, testapp, auth, deliver,
                                                          dbsession):
    order = kit.make_order(dbsession)
    body = kit.event_body("payment.captured", kit.payment_entity(order.razorpay_order_id))
    delivery_id = deliver(body, "evt_1").json["deliveryId"]
    # A row stored before signatures stopped being kept still shows none.
    dbsession.execute(sa.update(WebhookDelivery).values(headers={
        "X-Razorpay-Event-Id": "evt_1", "X-Razorpay-Signature": kit.sign(body),
        "Content-Type": "application/json"}))
    dbsession.commit()

    shown = testapp.get(f"{ADMIN}/{delivery_id}", headers=auth("ops", "admin"))

    assert shown.json["headers"] == {"X-Razorpay-Event-Id": "evt_1",
                                     "Content-Type": "application/json"}
    assert kit.sign(body) not in shown.text
    listed = testapp.get(ADMIN, headers=auth("ops", "admin"))
    assert kit.sign(body) not in listed.text


def test_a_signed_body_under_a_new_event_id_is_a_duplicate(kit, deliver, dbsession):
    order = kit.make_order(dbsession)
    body = kit.event_body("payment.captured", kit.payment_entity(order.razorpay_order_id))

    assert deliver(body, "evt_1").outcome == "processed"
    again = deliver(body, "evt_copied")

    assert (again.json["status"], again.outcome) == ("duplicate", "duplicate")
    assert kit.balance(dbsession, "alice") == 600
    [event] = kit.webhook_events(dbsession)
    first, second = kit.deliveries(dbsession)
    assert first.webhook_event_id == second.webhook_event_id == event.id
    assert (second.event_id, second.outcome) == ("evt_copied", "duplicate")


def test_a_different_body_under_a_new_event_id_is_processed(kit, deliver, dbsession):
    order = kit.make_order(dbsession)
    entity = kit.payment_entity(order.razorpay_order_id, status="authorized")
    assert deliver(kit.event_body("payment.authorized", entity), "evt_1").outcome == (
        "processed")
    captured = dict(entity, status="captured", captured=True)
    assert deliver(kit.event_body("payment.captured", captured), "evt_2").outcome == (
        "processed")
    assert kit.reload(dbsession, order).status == "paid"
