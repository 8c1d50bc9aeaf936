"""refund.* webhooks through the common dispatch: in any order, including refunds we
did not make (the dashboard's, and Razorpay's automatic ones)."""

from __future__ import annotations

import base64

import pytest
import sqlalchemy as sa

from banter_payments.ledger.models import Posting
from banter_payments.settings import SANDBOX_KEY_ID, SANDBOX_KEY_SECRET

PREFIX = "/api/payments"
PRICE = 44900
BASIC = {"Authorization": "Basic " + base64.b64encode(
    f"{SANDBOX_KEY_ID}:{SANDBOX_KEY_SECRET}".encode()).decode()}


def payment_entity(shop, razorpay_payment_id):
    return shop.testapp.get(f"{PREFIX}/_sandbox/razorpay/v1/payments/{razorpay_payment_id}",
                            headers=BASIC, status=200).json


def refund_entity(refund_id, razorpay_payment_id, amount, status, rfnd="rfnd_TEST1", **extra):
    return {"id": rfnd, "entity": "refund", "amount": amount, "currency": "INR",
            "payment_id": razorpay_payment_id, "notes": {"refund_id": refund_id},
            "receipt": refund_id, "acquirer_data": {"arn": None}, "status": status,
            "speed_requested": "normal", "speed_processed": None,
            "created_at": 1700000000, **extra}


class TestOrdering:
    @pytest.fixture
    def settings(self, settings):
        settings["sandbox.refund_status"] = "pending"
        return settings

    @pytest.fixture
    def pending(self, shop):
        order = shop.paid_order()
        refund = shop.refund(order["id"], {"amount": 20000, "reason": "x"}).json
        assert refund["status"] == "pending"
        pay_id = order["payment"]["razorpayPaymentId"]
        return order, refund, pay_id

    def test_processed_before_created(self, shop, pending):
        order, refund, pay_id = pending
        payment = payment_entity(shop, pay_id)
        rfnd = refund["razorpayRefundId"]
        shop.deliver("refund.processed",
                     refund_entity(refund["id"], pay_id, 20000, "processed", rfnd), payment)
        shop.deliver("refund.created",
                     refund_entity(refund["id"], pay_id, 20000, "pending", rfnd), payment)
        [settled] = shop.refunds(order["id"])
        assert (settled["status"], settled["clawedBack"]) == ("processed", {"coins": 267})
        assert shop.coins() == 333
        # a contradicting late refund.failed moves nothing back
        shop.deliver("refund.failed",
                     refund_entity(refund["id"], pay_id, 20000, "failed", rfnd), payment)
        assert shop.refunds(order["id"])[0]["status"] == "processed"
        assert shop.coins() == 333
        assert shop.ledger_problems() == []

    def test_a_webhook_found_by_its_note_before_the_api_answer_was_recorded(self, shop,
                                                                           pending, dbsession):
        """The refund row has no Razorpay id yet: the note we sent finds it."""
        from banter_payments.refunds.models import Refund

        order, refund, pay_id = pending
        dbsession.execute(sa.update(Refund).values(razorpay_refund_id=None))
        dbsession.commit()
        shop.deliver("refund.processed", refund_entity(
            refund["id"], pay_id, 20000, "processed", refund["razorpayRefundId"]),
            payment_entity(shop, pay_id))
        [settled] = shop.refunds(order["id"])
        assert settled["razorpayRefundId"] == refund["razorpayRefundId"]
        assert settled["status"] == "processed"
        assert shop.order(order["id"])["refundedAmount"] == 20000

    def test_an_event_whose_amount_contradicts_ours_is_refused(self, shop, pending):
        order, refund, pay_id = pending
        response = shop.deliver("refund.processed", refund_entity(
            refund["id"], pay_id, 30000, "processed", refund["razorpayRefundId"]),
            payment_entity(shop, pay_id))
        assert response.outcome == "rejected" and '"amount"' in response.error
        assert shop.refunds(order["id"])[0]["status"] == "pending"
        assert shop.coins() == 600

    def test_a_malformed_refund_entity_is_refused(self, shop, pending):
        order, refund, pay_id = pending
        response = shop.deliver("refund.processed", refund_entity(
            refund["id"], pay_id, "20000", "done", refund["razorpayRefundId"]),
            payment_entity(shop, pay_id))
        assert response.outcome == "rejected"
        assert '"amount"' in response.error and '"status"' in response.error

    def test_the_sandbox_delivering_shuffled_duplicates_settles_once(self, shop, pending,
                                                                      dbsession):
        order, refund, pay_id = pending
        shop.flush_webhooks()
        shop.flush_webhooks()
        assert shop.refunds(order["id"])[0]["status"] == "processed"
        references = dbsession.scalars(sa.select(Posting.reference).where(
            Posting.reference.like("refund:%"))).all()
        dbsession.rollback()
        assert references == [f"refund:{refund['id']}"]


def test_a_refund_made_in_the_dashboard_is_recorded_and_clawed_back(shop):
    order = shop.paid_order()
    pay_id = order["payment"]["razorpayPaymentId"]
    entity = refund_entity("", pay_id, 22450, "processed", "rfnd_DASH1", notes={},
                           receipt=None)
    shop.deliver("refund.processed", entity, payment_entity(shop, pay_id))
    [refund] = shop.refunds(order["id"])
    assert (refund["razorpayRefundId"], refund["amount"], refund["status"]) == (
        "rfnd_DASH1", 22450, "processed")
    assert refund["automatic"] is False and refund["reason"] == "refunded at the gateway"
    assert refund["appliesToOrder"] is True
    assert refund["clawedBack"] == {"coins": 300}
    shown = shop.order(order["id"])
    assert (shown["refundedAmount"], shown["refundStatus"]) == (22450, "partial")
    # it counts against what is left
    assert shop.refund(order["id"], {"amount": 22451, "reason": "x"}, status=409).json[
        "error"]["details"]["remaining"] == 22450


@pytest.mark.parametrize(
    ("change", "field"),
    [({"currency": "USD"}, "currency"), ({"amount": PRICE + 1}, "amount")],
)
def test_a_refund_event_that_does_not_fit_its_payment_is_refused(shop, change, field):
    """Signed or not, a refund in another currency, or larger than what is left of its
    payment, is refused (400, recorded) and changes nothing."""
    order = shop.paid_order()
    pay_id = order["payment"]["razorpayPaymentId"]
    entity = dict(refund_entity("", pay_id, 100, "processed", "rfnd_ODD1", notes={},
                                receipt=None), **change)
    response = shop.deliver("refund.processed", entity, payment_entity(shop, pay_id))
    assert response.outcome == "rejected" and f'"{field}"' in response.error
    assert shop.refunds(order["id"]) == []
    shown = shop.order(order["id"])
    assert (shown["refundedAmount"], shown["refundStatus"]) == (0, "none")
    assert shop.coins() == 600


def test_an_automatic_refund_of_an_uncaptured_payment_is_recorded_without_clawback(
        shop, dbsession):
    order = shop.testapp.post_json(f"{PREFIX}/orders", {"sku": "coins.popular"},
                                   headers=shop.auth("alice"), status=201).json
    payment = {"id": "pay_AUTO1", "entity": "payment", "amount": PRICE, "currency": "INR",
               "status": "refunded", "order_id": order["razorpayOrderId"], "method": "upi",
               "captured": False, "amount_refunded": PRICE, "refund_status": "full"}
    refund = {"id": "rfnd_AUTO1", "entity": "refund", "amount": PRICE, "currency": "INR",
              "payment_id": "pay_AUTO1", "notes": [], "receipt": None, "status": "processed",
              "created_at": 1700000000}
    shop.deliver("refund.processed", refund, payment)
    shop.deliver("refund.created", dict(refund, status="pending"), payment)
    [recorded] = shop.refunds(order["id"])
    assert recorded["automatic"] is True and recorded["status"] == "processed"
    assert recorded["appliesToOrder"] is False
    assert (recorded["amount"], recorded["clawedBack"]) == (PRICE, {})
    shown = shop.order(order["id"])
    assert (shown["refundedAmount"], shown["refundStatus"]) == (0, "none")
    assert shown["status"] != "paid"
    postings = dbsession.scalar(sa.select(sa.func.count()).select_from(Posting))
    dbsession.rollback()
    assert postings == 0


def test_a_refund_of_a_payment_we_do_not_know_is_ignored(shop):
    payment = {"id": "pay_ELSEWHERE", "entity": "payment", "amount": 100, "currency": "INR",
               "status": "refunded", "order_id": None, "captured": True}
    refund = {"id": "rfnd_ELSEWHERE", "entity": "refund", "amount": 100, "currency": "INR",
              "payment_id": "pay_ELSEWHERE", "status": "processed"}
    response = shop.deliver("refund.processed", refund, payment)
    assert response.outcome == "ignored"
    assert shop.rows() == []


class TestProcessedAfterFailed:
    """The gateway has the last word: a refund it reports processed sent the money, so
    it is settled even if we had it failed, and its amount is no longer free."""

    @pytest.fixture
    def refused_once(self, monkeypatch):
        from banter_payments.errors import GatewayError
        from banter_payments.gateway.razorpay import RazorpayGateway

        original = RazorpayGateway.refund_payment
        calls = []

        def refund_payment(self, *args, **kwargs):
            calls.append(args)
            if len(calls) == 1:
                raise GatewayError("Razorpay refused to refund a payment: BAD_REQUEST_ERROR",
                                   details={"reason": "bad_request"})
            return original(self, *args, **kwargs)

        monkeypatch.setattr(RazorpayGateway, "refund_payment", refund_payment)
        return calls

    def assert_settled(self, shop, order, refund_id, rfnd):
        assert shop.coins() == 600 - 267
        shown = shop.order(order["id"])
        assert (shown["refundedAmount"], shown["refundStatus"]) == (20000, "partial")
        [settled] = shop.refunds(order["id"])
        assert (settled["id"], settled["status"], settled["razorpayRefundId"]) == (
            refund_id, "processed", rfnd)
        assert settled["clawedBack"] == {"coins": 267}
        assert settled["processedAt"] is not None and settled["failureReason"]
        assert shop.refund(order["id"], {"amount": PRICE - 20000 + 1, "reason": "x"},
                           status=409).json["error"]["details"]["remaining"] == PRICE - 20000
        assert shop.ledger_problems() == []

    def test_refused_with_bad_request_then_processed(self, shop, refused_once, registry):
        from banter_payments.events import RefundProcessed

        processed = []
        registry.registerHandler(processed.append, (RefundProcessed,))
        order = shop.paid_order()
        pay_id = order["payment"]["razorpayPaymentId"]
        refused = shop.refund(order["id"], {"amount": 20000, "reason": "x"}).json
        assert (refused["status"], refused["razorpayRefundId"]) == ("failed", None)
        assert shop.coins() == 600
        shop.deliver("refund.processed", refund_entity(
            refused["id"], pay_id, 20000, "processed", "rfnd_LATE1"),
            payment_entity(shop, pay_id))
        self.assert_settled(shop, order, refused["id"], "rfnd_LATE1")
        assert [event.refund.id for event in processed] == [refused["id"]]
        # applied once: the same event again changes nothing
        shop.deliver("refund.processed", refund_entity(
            refused["id"], pay_id, 20000, "processed", "rfnd_LATE1", speed_processed="x"),
            payment_entity(shop, pay_id))
        self.assert_settled(shop, order, refused["id"], "rfnd_LATE1")
        assert len(processed) == 1

    def test_reported_failed_then_processed(self, shop):
        order = shop.paid_order()
        pay_id = order["payment"]["razorpayPaymentId"]
        failed = shop.refund(order["id"], {"amount": 20000, "reason": "x",
                                           "notes": {"sandbox_outcome": "failed"}}).json
        assert failed["status"] == "failed"
        shop.deliver("refund.processed", refund_entity(
            failed["id"], pay_id, 20000, "processed", failed["razorpayRefundId"]),
            payment_entity(shop, pay_id))
        self.assert_settled(shop, order, failed["id"], failed["razorpayRefundId"])
