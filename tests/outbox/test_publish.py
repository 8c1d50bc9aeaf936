"""A message is written in the fact's transaction: it exists iff the fact committed."""

from __future__ import annotations

import pytest
import webtest

from banter_payments.jobs import Job
from banter_payments.outbox.interfaces import IOutbox
from banter_payments.payments.interfaces import IPaymentService
from tests.common.inbox import drain


def test_a_paid_order_writes_one_message_with_the_payload(pay, messages):
    order = pay(sku=None, user_id=None, metadata={"jobId": 1, "applicationId": 10})

    [message] = messages()
    assert message["topic"] == "order.paid"
    assert message["endpoint"] == "jobs"
    assert message["status"] == "pending"
    assert (message["aggregate_type"], message["aggregate_id"]) == ("order", order.id)
    assert message["sequence"] == 1
    payload = message["payload"]
    assert set(payload) == {"id", "type", "occurredAt", "data"}
    assert payload["id"] == message["event_id"]
    assert payload["type"] == "order.paid"
    assert payload["occurredAt"].endswith("Z")
    data = payload["data"]
    assert data["orderId"] == order.id
    assert data["status"] == "paid"
    assert data["amount"] == 44900 and data["currency"] == "INR"
    assert data["sourceApp"] == "jobs" and data["externalRef"] == order.external_ref
    assert data["metadata"] == {"jobId": 1, "applicationId": 10}
    assert data["userId"] is None


def test_facts_of_one_order_get_consecutive_sequence_numbers(pay, run, messages, kit,
                                                             registry):
    from banter_payments.outbox.topics import REFUND_FAILED

    order = pay()
    outbox = registry.getUtility(IOutbox)
    run(lambda request: outbox.publish(request.dbsession, REFUND_FAILED,
                                       aggregate_type="order", aggregate_id=order.id,
                                       data={"orderId": order.id}))
    other = pay()
    rows = messages()
    assert [(m["aggregate_id"], m["sequence"]) for m in rows] == [
        (order.id, 1), (order.id, 2), (other.id, 1)]


class TestOnlyWantedTopicsAreWritten:
    @pytest.fixture
    def settings(self, settings, receiver):
        settings["outbox.endpoints"] = (f"gifts {receiver.url} BANTER_TEST_OUTBOX_SECRET "
                                        f"gift.sent")
        return settings

    def test_an_unwanted_topic_leaves_the_outbox_empty(self, pay, messages, engine):
        pay()
        assert messages() == []
        with engine.connect() as conn:
            assert conn.exec_driver_sql("SELECT count(*) FROM outbox_sequences").scalar() == 0


class TestNoEndpoints:
    @pytest.fixture
    def settings(self, settings):
        settings["outbox.endpoints"] = ""
        return settings

    def test_without_endpoints_nothing_is_written(self, pay, messages):
        pay()
        assert messages() == []


def test_every_endpoint_that_wants_a_topic_gets_its_own_message(settings, kit, gateway,
                                                                 receiver, dbsession,
                                                                 messages):

    settings["outbox.endpoints"] = "\n".join([
        f"jobs {receiver.url} BANTER_TEST_OUTBOX_SECRET order.paid",
        f"apps {receiver.url}?app=1 BANTER_TEST_OUTBOX_SECRET order.paid refund.processed",
        f"gifts {receiver.url} BANTER_TEST_OUTBOX_SECRET gift.sent",
    ])
    app = kit.make_app(settings, gateway)
    order = kit.make_order(dbsession)
    entity = kit.payment_entity(order.razorpay_order_id)
    with Job(app.registry) as job, job.tm:
        job.find_service(IPaymentService).apply_gateway_payment(
            job.dbsession.merge(order), entity, source="webhook")
    rows = messages()
    assert sorted(m["endpoint"] for m in rows) == ["apps", "jobs"]
    assert len({m["event_id"] for m in rows}) == 1


def test_a_failed_webhook_handler_leaves_no_message(settings, gateway, kit, dbsession,
                                                    messages):
    """The handler's savepoint rolls back the payment, the order's move and the message
    with it; once the delivery is processed for real, there is exactly one."""
    failing = {"on": True}

    def flaky(request, event, delivery):
        if failing["on"]:
            raise RuntimeError("host handler down")

    app = kit.make_app(settings, gateway,
                       lambda config: config.add_webhook_handler("payment.captured", flaky))
    testapp = webtest.TestApp(app, extra_environ={"HTTP_HOST": "localhost:80"})
    order = kit.make_order(dbsession)
    body = kit.event_body("payment.captured", kit.payment_entity(order.razorpay_order_id))
    headers = kit.webhook_headers(body, "evt_outbox_rollback")
    testapp.post("/api/payments/webhooks/razorpay", body, headers=headers, status=200)
    drain(app)
    assert kit.reload(dbsession, order).status != "paid"
    assert messages() == []

    failing["on"] = False
    testapp.post("/api/payments/webhooks/razorpay", body, headers=headers, status=200)
    drain(app)
    assert [m["topic"] for m in messages()] == ["order.paid"]


def test_a_transaction_that_rolls_back_after_a_refund_leaves_no_message(pay, run, kit,
                                                                        messages, dbsession):
    """A refund settled and announced, then refused by a later check in the same
    transaction: nothing of it, the message included, survives."""
    from banter_payments.refunds.interfaces import IRefundService
    from banter_payments.refunds.models import Refund

    order = pay()
    before = messages()
    payment = kit.payment_rows(dbsession, order.id)[0]

    class Refused(Exception):
        pass

    def refund_then_refuse(request):
        refund = Refund(order_id=order.id, payment_id=payment.id,
                        razorpay_payment_id=payment.razorpay_payment_id, amount=100,
                        currency="INR", created_by="admin")
        request.dbsession.add(refund)
        request.dbsession.flush()
        assert request.find_service(IRefundService).mark_processed(refund)
        raise Refused()

    with pytest.raises(Refused):
        run(refund_then_refuse)
    assert messages() == before

    def refund(request):
        row = Refund(order_id=order.id, payment_id=payment.id,
                     razorpay_payment_id=payment.razorpay_payment_id, amount=100,
                     currency="INR", created_by="admin")
        request.dbsession.add(row)
        request.dbsession.flush()
        request.find_service(IRefundService).mark_processed(row)
        return row.id

    refund_id = run(refund)
    processed = messages(topic="refund.processed")
    assert [m["payload"]["data"]["refundId"] for m in processed] == [refund_id]
    assert processed[0]["sequence"] == 2


def test_a_refused_refund_request_writes_nothing(pay, testapp, auth, messages):
    order = pay()
    before = messages()
    testapp.post_json(f"/api/payments/orders/{order.id}/refunds",
                      {"amount": 10 ** 9, "reason": "test"},
                      headers=auth("root", "admin"), status=409)
    assert messages() == before


def test_a_gift_writes_gift_sent(settings, kit, gateway, dbsession, messages):
    settings["banter_payments.plugins"] = "banter_coins banter_gifting"
    settings["gifting.policy"] = "allow_all"
    app = kit.make_app(settings, gateway)
    testapp = webtest.TestApp(app, extra_environ={"HTTP_HOST": "localhost:80"})
    from banter_payments.ledger.services import LedgerService

    LedgerService(dbsession).grant("alice", {"coins": 50}, reference="seed:alice",
                                description="seed")
    dbsession.commit()
    from banter_payments.security import issue_token

    token = issue_token(app.registry.settings, "alice", [])
    testapp.post_json("/api/payments/gifts", {"to": "bob", "coins": 20},
                      headers={"Authorization": f"Bearer {token}"}, status=201)
    [message] = messages()
    assert message["topic"] == "gift.sent"
    assert message["aggregate_type"] == "gift"
    assert message["payload"]["data"]["from"] == "alice"
    assert message["payload"]["data"]["coins"] == 20
