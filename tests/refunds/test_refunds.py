"""Refunds through the real app and the sandbox: amounts, states, clawback, bad input."""

from __future__ import annotations

import pytest
import sqlalchemy as sa

from banter_payments.events import RefundFailed, RefundProcessed
from banter_payments.ledger.models import Posting

PREFIX = "/api/payments"
PRICE = 44900  # coins.popular: 600 coins


def test_a_full_refund_gives_everything_back_and_claws_back_every_coin(shop):
    order = shop.paid_order()
    assert shop.coins() == 600
    refund = shop.refund(order["id"], {"reason": "customer asked"}).json
    assert refund["id"].startswith("rfd_")
    assert refund["razorpayRefundId"].startswith("rfnd_")
    assert (refund["orderId"], refund["amount"], refund["currency"]) == (order["id"], PRICE,
                                                                        "INR")
    assert (refund["status"], refund["reason"]) == ("processed", "customer asked")
    assert refund["clawedBack"] == {"coins": 600}
    assert refund["shortfall"] == {"coins": 0}
    assert refund["processedAt"].endswith("Z") and refund["automatic"] is False
    assert refund["appliesToOrder"] is True
    assert refund["razorpayPaymentId"] == order["payment"]["razorpayPaymentId"]
    assert shop.coins() == 0
    shown = shop.order(order["id"])
    assert (shown["refundedAmount"], shown["refundStatus"]) == (PRICE, "full")
    assert shop.refunds(order["id"]) == [refund]
    [remote] = shop.gateway_refunds()
    assert (remote.id, remote.amount, remote.status) == (refund["razorpayRefundId"], PRICE,
                                                         "processed")
    assert remote.notes["refund_id"] == refund["id"]
    assert remote.notes["order_id"] == order["id"]
    assert remote.idempotency_key.startswith("rfk_")
    assert shop.ledger_problems() == []


def test_partial_refunds_claw_back_in_proportion_and_add_up_to_the_whole(shop):
    order = shop.paid_order()
    first = shop.refund(order["id"], {"amount": 10000, "reason": "late delivery"}).json
    # floor(600 * 10000 / 44900) = 133, rounded in the user's favour
    assert first["clawedBack"] == {"coins": 133}
    assert shop.coins() == 467
    shown = shop.order(order["id"])
    assert (shown["refundedAmount"], shown["refundStatus"]) == (10000, "partial")
    second = shop.refund(order["id"], {"amount": 1, "reason": "a paisa"}).json
    assert second["clawedBack"] == {"coins": 0}  # floor(600 * 10001 / 44900) is still 133
    rest = shop.refund(order["id"], {"reason": "the rest"}).json
    assert rest["amount"] == PRICE - 10001
    assert rest["clawedBack"] == {"coins": 467}
    assert shop.coins() == 0
    shown = shop.order(order["id"])
    assert (shown["refundedAmount"], shown["refundStatus"]) == (PRICE, "full")
    assert [r["amount"] for r in shop.refunds(order["id"])] == [10000, 1, PRICE - 10001]
    assert sum(r.amount for r in shop.gateway_refunds()) == PRICE
    assert shop.ledger_problems() == []


def test_a_refund_after_half_the_coins_were_gifted_records_the_shortfall(shop):
    order = shop.paid_order()
    shop.gift("bob", 300)
    assert (shop.coins("alice"), shop.coins("bob")) == (300, 300)
    refund = shop.refund(order["id"], {"reason": "chargeback threat"}).json
    assert refund["status"] == "processed"
    assert refund["clawedBack"] == {"coins": 300}
    assert refund["shortfall"] == {"coins": 300}
    assert (shop.coins("alice"), shop.coins("bob")) == (0, 300)
    [row] = shop.rows()
    assert (row.clawed_back, row.shortfall) == ({"coins": 300}, {"coins": 300})
    assert shop.refunds(order["id"])[0]["shortfall"] == {"coins": 300}
    assert shop.ledger_problems() == []


class TestRequireFullClawback:
    @pytest.fixture
    def settings(self, settings):
        settings["refunds.require_full_clawback"] = "true"
        return settings

    def test_a_refund_whose_clawback_cannot_be_collected_is_refused(self, shop):
        order = shop.paid_order()
        shop.gift("bob", 300)
        response = shop.refund(order["id"], {"reason": "x"}, status=409)
        assert response.json["error"]["code"] == "conflict"
        assert response.json["error"]["details"] == {"clawback": {"coins": 600},
                                                     "shortfall": {"coins": 300}}
        assert shop.rows() == [] and shop.gateway_refunds() == []
        assert shop.coins() == 300
        # a refund small enough to be collected goes through
        assert shop.refund(order["id"], {"amount": 20000, "reason": "x"}).json[
            "clawedBack"] == {"coins": 267}


class TestBadInput:
    """Each gets API.md's error and changes nothing: no row, no gateway refund, no coins."""

    @pytest.fixture
    def order(self, shop):
        return shop.paid_order()

    def assert_nothing_changed(self, shop, order):
        assert shop.rows() == []
        assert shop.gateway_refunds() == []
        assert shop.coins() == 600
        shown = shop.order(order["id"])
        assert (shown["refundedAmount"], shown["refundStatus"]) == (0, "none")

    @pytest.mark.parametrize("body,field", [
        ({"amount": 0, "reason": "x"}, "amount"),
        ({"amount": -5, "reason": "x"}, "amount"),
        ({"amount": 1.5, "reason": "x"}, "amount"),
        ({"amount": "100", "reason": "x"}, "amount"),
        ({"amount": 100}, "reason"),
        ({"amount": 100, "reason": ""}, "reason"),
        ({"amount": 100, "reason": "x", "speed": "optimum"}, "speed"),
        ({"reason": "x", "notes": {"k": {"nested": 1}}}, "notes"),
    ])
    def test_a_body_that_does_not_match_is_400(self, shop, order, body, field):
        response = shop.refund(order["id"], body, status=400)
        assert response.json["error"]["code"] == "validation_failed"
        assert field in str(response.json["error"]["details"])
        self.assert_nothing_changed(shop, order)

    def test_more_than_is_left_is_409(self, shop, order):
        response = shop.refund(order["id"], {"amount": PRICE + 1, "reason": "x"}, status=409)
        assert response.json["error"] == {
            "code": "conflict", "message": "The refund is larger than what is left to refund.",
            "details": {"remaining": PRICE, "requested": PRICE + 1}}
        self.assert_nothing_changed(shop, order)

    def test_more_than_is_left_after_a_partial_refund_is_409(self, shop, order):
        shop.refund(order["id"], {"amount": 40000, "reason": "x"})
        response = shop.refund(order["id"], {"amount": 4901, "reason": "x"}, status=409)
        assert response.json["error"]["details"] == {"remaining": 4900, "requested": 4901}
        shop.refund(order["id"], {"reason": "x"})
        response = shop.refund(order["id"], {"reason": "x"}, status=409)
        assert response.json["error"]["details"] == {"remaining": 0}
        assert len(shop.rows()) == 2

    def test_a_non_admin_is_403(self, shop, order):
        response = shop.testapp.post_json(f"{PREFIX}/orders/{order['id']}/refunds",
                                          {"reason": "mine"}, headers=shop.auth("alice"),
                                          status=403)
        assert response.json["error"]["code"] == "forbidden"
        shop.testapp.post_json(f"{PREFIX}/orders/{order['id']}/refunds", {"reason": "x"},
                               status=401)
        self.assert_nothing_changed(shop, order)

    def test_an_unknown_order_is_404(self, shop, order):
        response = shop.refund("ord_NOPE", {"reason": "x"}, status=404)
        assert response.json["error"]["code"] == "not_found"
        self.assert_nothing_changed(shop, order)

    def test_an_unpaid_order_is_409(self, shop, order):
        unpaid = shop.testapp.post_json(f"{PREFIX}/orders", {"sku": "coins.popular"},
                                        headers=shop.auth("alice"), status=201).json
        response = shop.refund(unpaid["id"], {"reason": "x"}, status=409)
        assert response.json["error"] == {"code": "conflict",
                                          "message": "Only a paid order can be refunded.",
                                          "details": {"status": "created"}}
        self.assert_nothing_changed(shop, order)

    def test_a_failed_order_is_409(self, shop, order):
        failed = shop.testapp.post_json(f"{PREFIX}/orders", {"sku": "coins.popular"},
                                        headers=shop.auth("alice"), status=201).json
        shop.testapp.post_json(
            f"{PREFIX}/_sandbox/razorpay/checkout/{failed['razorpayOrderId']}/pay",
            {"outcome": "failure", "method": "card"})
        shop.flush_webhooks()
        assert shop.order(failed["id"])["payment"]["status"] == "failed"
        response = shop.refund(failed["id"], {"reason": "x"}, status=409)
        assert response.json["error"]["code"] == "conflict"
        self.assert_nothing_changed(shop, order)


def test_refunds_are_listed_for_the_buyer_and_admins_only(shop):
    order = shop.paid_order()
    shop.refund(order["id"], {"amount": 100, "reason": "x"})
    assert [r["amount"] for r in shop.refunds(order["id"], "alice", "user")] == [100]
    assert [r["amount"] for r in shop.refunds(order["id"], "ops", "admin")] == [100]
    shop.testapp.get(f"{PREFIX}/orders/{order['id']}/refunds", headers=shop.auth("mallory"),
                     status=404)


def test_refund_events_are_emitted(shop, registry):
    processed, failed = [], []
    registry.registerHandler(processed.append, (RefundProcessed,))
    registry.registerHandler(failed.append, (RefundFailed,))
    order = shop.paid_order()
    shop.refund(order["id"], {"amount": 100, "reason": "x"})
    shop.refund(order["id"], {"amount": 100, "reason": "x",
                              "notes": {"sandbox_outcome": "failed"}})
    assert [e.refund.amount for e in processed] == [100]
    assert [e.refund.status for e in failed] == ["failed"]


def test_a_failed_refund_frees_its_amount(shop):
    order = shop.paid_order()
    failed = shop.refund(order["id"], {"reason": "x", "notes": {"sandbox_outcome": "failed"}})
    assert failed.json["status"] == "failed"
    assert failed.json["clawedBack"] == {} and shop.coins() == 600
    assert shop.order(order["id"])["refundStatus"] == "none"
    again = shop.refund(order["id"], {"reason": "second try"}).json
    assert (again["status"], again["amount"]) == ("processed", PRICE)
    assert shop.coins() == 0


def test_webhooks_for_a_settled_refund_change_nothing(shop, dbsession):
    order = shop.paid_order()
    refund = shop.refund(order["id"], {"amount": 20000, "reason": "x"}).json
    assert shop.flush_webhooks() >= 2  # refund.created, refund.processed (and payments)
    assert shop.refunds(order["id"]) == [refund]
    assert shop.coins() == 600 - 267
    assert shop.order(order["id"])["refundedAmount"] == 20000
    postings = dbsession.scalars(sa.select(Posting.reference).where(
        Posting.reference.like("refund:%"))).all()
    dbsession.rollback()
    assert postings == [f"refund:{refund['id']}"]
    assert shop.ledger_problems() == []


class TestPendingAtTheGateway:
    @pytest.fixture
    def settings(self, settings):
        settings["sandbox.refund_status"] = "pending"
        return settings

    def test_webhooks_settle_a_pending_refund(self, shop):
        order = shop.paid_order()
        refund = shop.refund(order["id"], {"amount": 30000, "reason": "x"}).json
        assert (refund["status"], refund["clawedBack"]) == ("pending", {})
        assert shop.coins() == 600
        shown = shop.order(order["id"])
        assert (shown["refundedAmount"], shown["refundStatus"]) == (0, "none")
        # a pending refund already counts against what is left
        assert shop.refund(order["id"], {"amount": 20000, "reason": "x"}, status=409).json[
            "error"]["details"] == {"remaining": 14900, "requested": 20000}
        shop.flush_webhooks()
        [settled] = shop.refunds(order["id"])
        assert settled["status"] == "processed"
        assert settled["clawedBack"] == {"coins": 400}  # floor(600 * 30000 / 44900)
        assert shop.coins() == 200
        assert shop.order(order["id"])["refundedAmount"] == 30000

    def test_a_refund_failing_later_releases_its_reservation(self, shop):
        order = shop.paid_order()
        shop.refund(order["id"], {"reason": "x", "notes": {"sandbox_outcome": "failed"}})
        shop.flush_webhooks()
        [failed] = shop.refunds(order["id"])
        assert failed["status"] == "failed"
        assert shop.coins() == 600
        assert shop.refund(order["id"], {"reason": "again"}).json["amount"] == PRICE


def test_admins_list_refunds_with_a_shortfall(shop):
    gifted = shop.paid_order()
    shop.gift("bob", 300)
    short = shop.refund(gifted["id"], {"reason": "x"}).json
    whole = shop.refund(shop.paid_order("carol")["id"], {"reason": "y"}, user="ops").json
    listed = shop.testapp.get(f"{PREFIX}/admin/refunds", headers=shop.auth("ops", "admin"),
                              status=200).json
    assert [r["id"] for r in listed["items"]] == [whole["id"], short["id"]]
    assert listed["nextCursor"] is None
    only = shop.testapp.get(f"{PREFIX}/admin/refunds?shortfall=true",
                            headers=shop.auth("ops", "admin"), status=200).json
    assert [(r["id"], r["shortfall"]) for r in only["items"]] == [(short["id"],
                                                                   {"coins": 300})]
    page = shop.testapp.get(f"{PREFIX}/admin/refunds?limit=1",
                            headers=shop.auth("ops", "admin"), status=200).json
    assert [r["id"] for r in page["items"]] == [whole["id"]]
    rest = shop.testapp.get(f"{PREFIX}/admin/refunds?limit=1&cursor={page['nextCursor']}",
                            headers=shop.auth("ops", "admin"), status=200).json
    assert [r["id"] for r in rest["items"]] == [short["id"]]
    shop.testapp.get(f"{PREFIX}/admin/refunds", headers=shop.auth("alice"), status=403)
    shop.testapp.get(f"{PREFIX}/admin/refunds?cursor=nope",
                     headers=shop.auth("ops", "admin"), status=400)
