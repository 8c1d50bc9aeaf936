"""Who hears of a fact: the host's directory, else what the order captured; a directory
that fails costs the notification, never the payment; other plugins' facts arrive by
their outbox topic."""

from __future__ import annotations

import datetime as dt
import logging
from dataclasses import dataclass
from types import SimpleNamespace
from typing import Any

import pytest
import sqlalchemy as sa
from banter_notifications.models import Notification

from banter_payments.events import EventSink, PaymentsEvent
from banter_payments.jobs import Job
from banter_payments.outbox.interfaces import Fact

from .conftest import PREFIX, deliver_webhooks, parts, send_mail, wait_for_mail
from .test_mail import notifications, pay


def test_a_service_order_mails_the_customer_it_captured(app, testapp, auth, smtp, registry,
                                                        dbsession):
    body = {"amount": 25000, "currency": "INR", "externalRef": "job-1", "sourceApp": "jobs",
            "customer": {"email": "buyer@example.com", "name": "Buyer"}}
    order = testapp.post_json(f"{PREFIX}/orders", body, headers=auth("jobs", "service"),
                              status=201).json
    testapp.post_json(f"{PREFIX}/_sandbox/razorpay/checkout/{order['razorpayOrderId']}/pay",
                      {"outcome": "success", "method": "upi"})
    deliver_webhooks(app)
    assert send_mail(registry) == 1
    [mail] = wait_for_mail(smtp, 1)
    assert mail["To"] == "Buyer <buyer@example.com>"
    text, _ = parts(mail)
    assert "₹250.00" in text
    assert notifications(dbsession) == []  # no user, no inbox


def test_a_directory_that_fails_costs_the_notice_never_the_payment(
        app, testapp, auth, smtp, registry, dbsession, caplog):
    order, checkout = pay(testapp, auth, user="crash")
    with caplog.at_level(logging.ERROR, logger="banter_notifications"):
        paid = testapp.post_json(f"{PREFIX}/verify", checkout, headers=auth("crash")).json
    assert paid["status"] == "paid" and paid["isConfirmed"] is True
    assert "order.paid could not be recorded" in caplog.text
    assert notifications(dbsession) == []
    assert send_mail(registry) == 0


@dataclass(frozen=True)
class Charged(PaymentsEvent):
    """Stands in for another plugin's event: the notifications plugin knows it only by
    the topic it is registered under."""

    subscription: Any
    charge: Any


def charged_fact(event: Charged) -> Fact:
    sub = event.subscription
    return Fact("subscription.charged", "subscription", sub.id,
                dt.datetime(2026, 12, 1, tzinfo=dt.UTC),
                {"subscriptionId": sub.id, "userId": sub.user_id, "plan": "premium"})


class TestAnotherPluginsTopic:
    @pytest.fixture
    def configure(self):
        return lambda config: config.add_outbox_topic(Charged, "subscription.charged",
                                                      charged_fact)

    def test_is_notified_by_its_topic(self, app, registry, smtp, dbsession):
        subscription = SimpleNamespace(id="sub_1", user_id="alice", plan="Premium Monthly")
        charge = SimpleNamespace(amount=19900, currency="INR",
                                 razorpay_payment_id="pay_SUB1")
        with Job(registry) as job, job.tm:
            EventSink(job).emit(Charged(job, subscription=subscription, charge=charge))
        assert send_mail(registry) == 1
        [mail] = wait_for_mail(smtp, 1)
        assert mail["To"] == "Alice <alice@example.com>"
        text, html = parts(mail)
        for part in (text, html):
            assert "₹199.00" in part and "pay_SUB1" in part and "premium" in part
        [row] = notifications(dbsession)
        assert (row.user_id, row.kind, row.reference) == (
            "alice", "subscription_charged", "subscription:sub_1")


def test_without_the_topic_another_plugins_event_is_ignored(app, registry, dbsession):
    with Job(registry) as job, job.tm:
        EventSink(job).emit(Charged(job, subscription=None, charge=None))
    assert dbsession.scalar(sa.select(sa.func.count()).select_from(Notification)) == 0


class TestDevelopmentDomain:
    @pytest.fixture
    def settings(self, settings):
        settings["notifications.development_domain"] = "example.test"
        return settings

    def test_a_user_with_no_address_is_mailed_at_the_development_domain(
            self, testapp, auth, smtp, registry):
        _, checkout = pay(testapp, auth, user="nomail")
        testapp.post_json(f"{PREFIX}/verify", checkout, headers=auth("nomail"))
        assert send_mail(registry) == 1
        [mail] = wait_for_mail(smtp, 1)
        assert mail["To"] == "No Mail <nomail@example.test>"


def test_the_development_domain_is_refused_in_production(settings):
    from pyramid.exceptions import ConfigurationError

    from banter_payments import main

    settings = {
        "banter_payments.environment": "production",
        "banter_payments.plugins": "banter_notifications",
        "sqlalchemy.url": "postgresql+psycopg://payments@127.0.0.1:1/nowhere",
        "razorpay.mode": "test", "razorpay.key_id": "rzp_test_0123456789abcd",
        "razorpay.key_secret": "a-real-looking-key-secret-0123456789",
        "razorpay.webhook_secrets": "a-real-looking-webhook-secret-0123456789",
        "jwt.secret": "a-real-looking-jwt-secret-0123456789-abcdef",
        "ratelimit.storage_url": "memory://",
        "notifications.development_domain": "example.test",
    }
    with pytest.raises(ConfigurationError, match="development_domain is for development"):
        main({}, **settings)


@pytest.mark.parametrize(("name", "value", "message"), [
    ("notifications.sender", "not an address", "notifications.sender"),
    ("notifications.reply_to", "help@x.test\nBcc: y@x.test", "notifications.reply_to"),
    ("notifications.email_kinds", "purchase_succeeded receipts", "unknown kind"),
    ("notifications.smtp_tls", "maybe", "notifications.smtp_tls"),
    ("notifications.templates", "banter_notifications:nowhere", "notifications.templates"),
])
def test_bad_settings_stop_start_up_naming_the_setting(settings, name, value, message):
    from pyramid.exceptions import ConfigurationError

    from banter_payments import main

    with pytest.raises(ConfigurationError, match=message):
        main({}, **{**settings, name: value})
