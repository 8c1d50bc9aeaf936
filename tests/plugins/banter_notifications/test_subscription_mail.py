"""Subscriptions mail their subscribers through the outbox topics the subscriptions
plugin publishes: activated and charged when premium starts, cancelled when it ends."""

from __future__ import annotations

import pytest
import sqlalchemy as sa
from banter_notifications.models import Notification

from .conftest import PREFIX, deliver_webhooks, parts, send_mail, wait_for_mail

SANDBOX = f"{PREFIX}/_sandbox/razorpay"


@pytest.fixture
def settings(settings):
    settings["banter_payments.plugins"] += "\nbanter_subscriptions"
    settings["sandbox.webhook_duplicates"] = "3"
    return settings


def kinds(dbsession, user_id):
    dbsession.rollback()
    found = dbsession.scalars(sa.select(Notification.kind)
                              .where(Notification.user_id == user_id)
                              .order_by(Notification.id)).all()
    dbsession.rollback()
    return found


def test_premium_is_mailed_once_per_fact_however_often_webhooks_arrive(
        testapp, auth, app, smtp, dbsession):
    sub = testapp.post_json(f"{PREFIX}/subscriptions", {"plan": "premium.monthly"},
                            headers=auth("alice")).json
    paid = testapp.post_json(
        f"{SANDBOX}/subscriptions/{sub['razorpaySubscriptionId']}/checkout",
        {"outcome": "success", "method": "card"}).json
    testapp.post_json(f"{PREFIX}/subscriptions/verify", paid, headers=auth("alice"))
    deliver_webhooks(app)
    testapp.post_json(f"{PREFIX}/subscriptions/{sub['id']}/cancel", {"atCycleEnd": False},
                      headers=auth("alice"))
    deliver_webhooks(app)

    assert sorted(kinds(dbsession, "alice")) == [
        "subscription_activated", "subscription_cancelled", "subscription_charged"]
    send_mail(app.registry)
    messages = wait_for_mail(smtp, 3)
    assert len(messages) == 3
    assert {m["To"] for m in messages} == {"Alice <alice@example.com>"}
    charged = [m for m in messages if paid["razorpay_payment_id"] in parts(m)[0]]
    assert len(charged) == 1
    text, html = parts(charged[0])
    assert "₹99.00" in text and "₹99.00" in html
    assert "Banter Premium" in charged[0]["Subject"]
    assert paid["razorpay_payment_id"] in html
