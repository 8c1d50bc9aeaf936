"""Mail through a real SMTP server on loopback: receipts, failures, refunds, gifts, and
what happens when the mail server or a template is broken."""

from __future__ import annotations

import time
from concurrent.futures import ThreadPoolExecutor
from types import SimpleNamespace

import pytest
import sqlalchemy as sa
from banter_notifications.models import Notification

from banter_payments.jobs import Job
from banter_payments.orders.models import Order
from banter_payments.outbox.models import OutboxMessage
from banter_payments.payments.interfaces import IPaymentService

from .conftest import PREFIX, deliver_webhooks, parts, send_mail, wait_for_mail


def pay(testapp, auth, *, user="alice", outcome="success", sku="coins.popular"):
    order = testapp.post_json(f"{PREFIX}/orders", {"sku": sku}, headers=auth(user)).json
    checkout = testapp.post_json(
        f"{PREFIX}/_sandbox/razorpay/checkout/{order['razorpayOrderId']}/pay",
        {"outcome": outcome, "method": "card"}, expect_errors=True).json
    return order, checkout


def outbox_rows(dbsession, **where):
    """The email channel's outbox rows, read in a transaction that ends at once (the
    writer session takes SQLite's write lock)."""
    dbsession.rollback()
    table = OutboxMessage.__table__
    statement = sa.select(table).where(table.c.channel == "email")
    for column, value in where.items():
        statement = statement.where(table.c[column] == value)
    rows = [SimpleNamespace(**row._mapping) for row in dbsession.execute(statement)]
    dbsession.rollback()
    return rows


def notifications(dbsession):
    dbsession.rollback()
    table = Notification.__table__
    rows = [SimpleNamespace(**row._mapping)
            for row in dbsession.execute(sa.select(table).order_by(table.c.id))]
    dbsession.rollback()
    return rows


class Rollback(Exception):
    pass


class TestReceipt:
    @pytest.fixture
    def settings(self, settings):
        settings["sandbox.webhook_duplicates"] = "3"
        return settings

    def test_one_receipt_even_when_webhooks_arrive_three_times_racing_verify(
            self, app, testapp, auth, smtp, registry, dbsession):
        order, checkout = pay(testapp, auth)
        with ThreadPoolExecutor(max_workers=2) as pool:
            verified = pool.submit(lambda: testapp.post_json(
                f"{PREFIX}/verify", checkout, headers=auth("alice")).json)
            delivered = pool.submit(deliver_webhooks, app)
            assert verified.result()["status"] == "paid"
            assert delivered.result() >= 3
        deliver_webhooks(app)

        assert send_mail(registry) == 1
        assert send_mail(registry) == 0
        [mail] = wait_for_mail(smtp, 1)
        time.sleep(0.2)
        assert len(smtp.messages) == 1

        payment_id = testapp.get(f"{PREFIX}/orders/{order['id']}",
                                 headers=auth("alice")).json["payment"]["razorpayPaymentId"]
        assert mail["To"] == "Alice <alice@example.com>"
        assert mail["From"] == "Banter <receipts@banter.test>"
        assert mail["Reply-To"] == "help@banter.test"
        assert "₹449.00" in mail["Subject"]
        text, html = parts(mail)
        for part in (text, html):
            assert "₹449.00" in part
            assert "600 coins" in part
            assert payment_id in part
            assert order["id"] in part
            assert f"https://app.banter.test/orders/{order['id']}" in part
        [row] = notifications(dbsession)
        assert (row.user_id, row.kind, row.emailed_to) == (
            "alice", "purchase_succeeded", "alice@example.com")

    def test_no_address_means_in_app_only(self, app, testapp, auth, smtp, registry,
                                          dbsession):
        order, checkout = pay(testapp, auth, user="nomail")
        testapp.post_json(f"{PREFIX}/verify", checkout, headers=auth("nomail"))
        deliver_webhooks(app)
        assert send_mail(registry) == 0
        assert outbox_rows(dbsession) == []
        [row] = notifications(dbsession)
        assert (row.user_id, row.emailed_to) == ("nomail", None)


def test_a_failed_payment_mails_the_reason_and_a_try_again_link(app, testapp, auth, smtp,
                                                                registry):
    order, _ = pay(testapp, auth, outcome="failure")
    deliver_webhooks(app)
    assert send_mail(registry) == 1
    [mail] = wait_for_mail(smtp, 1)
    assert "did not go through" in mail["Subject"]
    text, html = parts(mail)
    for part in (text, html):
        assert "₹449.00" in part
        assert "Why:" in part
        assert "What to try:" in part
        assert f"https://app.banter.test/orders/{order['id']}/retry" in part


def test_a_refund_mails_the_amount_and_what_was_taken_back(app, testapp, auth, smtp,
                                                           registry):
    order, checkout = pay(testapp, auth)
    testapp.post_json(f"{PREFIX}/verify", checkout, headers=auth("alice"))
    deliver_webhooks(app)
    testapp.post_json(f"{PREFIX}/orders/{order['id']}/refunds", {"reason": "duplicate"},
                      headers=auth("ops", "admin"), status=201)
    deliver_webhooks(app)
    send_mail(registry)
    mails = wait_for_mail(smtp, 2)
    [refund] = [m for m in mails if m["Subject"].startswith("Refund")]
    text, html = parts(refund)
    for part in (text, html):
        assert "₹449.00" in part
        assert "600 coins" in part
        assert "duplicate" in part


def test_smtp_down_then_back_the_mail_arrives_later(app, testapp, auth, smtp, registry,
                                                    dbsession):
    smtp.down()
    _, checkout = pay(testapp, auth)
    testapp.post_json(f"{PREFIX}/verify", checkout, headers=auth("alice"))
    assert send_mail(registry, rounds=1) == 0
    [row] = outbox_rows(dbsession)
    assert (row.status, row.attempts) == ("pending", 1)
    assert "SMTP" in row.last_error
    smtp.up()
    deadline = time.monotonic() + 5
    while not smtp.messages and time.monotonic() < deadline:
        send_mail(registry, rounds=1)
        time.sleep(0.05)
    assert len(smtp.messages) == 1
    [row] = outbox_rows(dbsession)
    assert row.status == "delivered"


def test_a_rolled_back_fact_sends_nothing(app, testapp, auth, smtp, registry, dbsession):
    """The payment is applied (inbox row and mail queued) and then its transaction
    rolls back: no row, no message, no mail."""
    order, checkout = pay(testapp, auth)
    with Job(registry) as job, pytest.raises(Rollback):
        with job.tm:
            db_order = job.dbsession.get(Order, order["id"])
            gateway_payment = {"id": checkout["razorpay_payment_id"],
                               "order_id": order["razorpayOrderId"], "amount": 44900,
                               "currency": "INR", "status": "captured", "method": "card",
                               "captured": True, "entity": "payment"}
            job.find_service(IPaymentService).apply_gateway_payment(
                db_order, gateway_payment, source="webhook")
            assert job.dbsession.scalars(sa.select(Notification)).all()
            assert job.dbsession.scalars(sa.select(OutboxMessage)).all()
            raise Rollback
    assert send_mail(registry) == 0
    assert outbox_rows(dbsession) == []
    assert notifications(dbsession) == []
    assert smtp.messages == []


class TestTemplateError:
    @pytest.fixture
    def templates(self, tmp_path):
        (tmp_path / "purchase_succeeded.html").write_text("{{ c.nowhere.at_all }}")
        return tmp_path

    @pytest.fixture
    def settings(self, settings, templates):
        settings["notifications.templates"] = str(templates)
        settings["outbox.max_attempts"] = "1"
        return settings

    def test_is_a_dead_message_an_operator_retries_never_a_failed_payment(
            self, app, testapp, auth, smtp, registry, dbsession, templates):
        order, checkout = pay(testapp, auth)
        assert testapp.post_json(f"{PREFIX}/verify", checkout,
                                 headers=auth("alice")).json["status"] == "paid"
        send_mail(registry)
        [row] = outbox_rows(dbsession)
        assert row.status == "dead"
        assert "template error" in row.last_error
        assert smtp.messages == []
        assert testapp.get(f"{PREFIX}/orders/{order['id']}",
                           headers=auth("alice")).json["isConfirmed"] is True
        dead = testapp.get(f"{PREFIX}/admin/outbox?status=dead",
                           headers=auth("ops", "admin")).json["items"]
        assert [m["id"] for m in dead] == [row.id]

        (templates / "purchase_succeeded.html").unlink()  # fixed: the default applies
        testapp.post_json(f"{PREFIX}/admin/outbox/{row.id}/retry", {},
                          headers=auth("ops", "admin"))
        assert send_mail(registry) == 1
        assert len(wait_for_mail(smtp, 1)) == 1
