"""One order captured twice: only refunds of the payment that paid it count on it.

The customer paid the order twice; the state machine flags the second capture for an
operator to refund. A refund of that extra payment (from Razorpay's dashboard, arriving
as a webhook) is recorded but gives back money the order never kept: it must neither
count on the order nor claw back what the first payment bought.
"""

from __future__ import annotations

import pytest
import sqlalchemy as sa

from banter_payments.ledger.models import Posting

PREFIX = "/api/payments"
PRICE = 44900  # coins.popular: 600 coins


def payment(razorpay_order_id, pay_id, status="captured"):
    return {"id": pay_id, "entity": "payment", "amount": PRICE, "currency": "INR",
            "status": status, "order_id": razorpay_order_id, "method": "upi",
            "captured": True}


def refund(rfnd, pay_id, status="processed", amount=PRICE):
    return {"id": rfnd, "entity": "refund", "amount": amount, "currency": "INR",
            "payment_id": pay_id, "notes": {}, "receipt": None, "status": status,
            "created_at": 1700000000}


def refund_postings(dbsession) -> list[str]:
    references = dbsession.scalars(sa.select(Posting.reference).where(
        Posting.reference.like("refund:%")).order_by(Posting.reference)).all()
    dbsession.rollback()
    return list(references)


@pytest.fixture
def paid_twice(shop):
    """A paid order and a second captured payment, pay_EXTRA1, for the same order."""
    order = shop.paid_order()
    shop.send("payment.captured",
              {"payment": {"entity": payment(order["razorpayOrderId"], "pay_EXTRA1")}})
    shown = shop.testapp.get(f"{PREFIX}/orders/{order['id']}",
                             headers=shop.auth("ops", "admin"), status=200).json
    assert shown["anomaly"] == (f"payment pay_EXTRA1 was captured for an order already "
                                f"paid by {order['payment']['razorpayPaymentId']}; refund it")
    assert shop.coins() == 600
    return order


def test_the_extra_payment_refunded_in_the_dashboard_is_recorded_not_counted(
        shop, paid_twice, dbsession):
    order = paid_twice
    shop.deliver("refund.processed", refund("rfnd_EXTRA1", "pay_EXTRA1"),
                 payment(order["razorpayOrderId"], "pay_EXTRA1", status="refunded"))
    assert shop.coins() == 600
    shown = shop.order(order["id"])
    assert (shown["refundedAmount"], shown["refundStatus"]) == (0, "none")
    assert refund_postings(dbsession) == []
    [extra] = shop.refunds(order["id"])
    assert (extra["razorpayPaymentId"], extra["razorpayRefundId"], extra["amount"],
            extra["status"]) == ("pay_EXTRA1", "rfnd_EXTRA1", PRICE, "processed")
    assert (extra["clawedBack"], extra["shortfall"]) == ({}, {})
    assert extra["reason"] == (
        "refunded at the gateway: an extra payment of an order paid by "
        f"{order['payment']['razorpayPaymentId']}; it does not count on the order")
    assert extra["appliesToOrder"] is False and extra["automatic"] is False
    assert shop.ledger_problems() == []


def test_after_the_extra_payment_is_refunded_the_paying_one_refunds_in_full(
        shop, paid_twice, dbsession):
    """The reviewer's case: this answered 500 and left a gateway refund unrecorded."""
    order = paid_twice
    paying = order["payment"]["razorpayPaymentId"]
    shop.deliver("refund.processed", refund("rfnd_EXTRA1", "pay_EXTRA1"),
                 payment(order["razorpayOrderId"], "pay_EXTRA1", status="refunded"))
    response = shop.refund(order["id"], {"reason": "customer asked"}, status=201)
    real = response.json
    assert (real["razorpayPaymentId"], real["amount"], real["status"]) == (
        paying, PRICE, "processed")
    assert real["appliesToOrder"] is True and real["razorpayRefundId"].startswith("rfnd_")
    assert real["clawedBack"] == {"coins": 600}
    assert shop.coins() == 0
    shown = shop.order(order["id"])
    assert (shown["refundedAmount"], shown["refundStatus"]) == (PRICE, "full")
    assert [(r.payment_id, r.amount, r.status) for r in shop.gateway_refunds()] == [
        (paying, PRICE, "processed")]
    assert [(r["razorpayPaymentId"], r["appliesToOrder"])
            for r in shop.refunds(order["id"])] == [("pay_EXTRA1", False), (paying, True)]
    assert refund_postings(dbsession) == [f"refund:{real['id']}"]
    # nothing is left of the paying payment
    assert shop.refund(order["id"], {"reason": "again"}, status=409).json["error"][
        "details"] == {"remaining": 0}
    assert shop.ledger_problems() == []


def test_an_admin_refund_refunds_the_paying_payment_up_to_the_order_amount(shop,
                                                                            paid_twice):
    order = paid_twice
    paying = order["payment"]["razorpayPaymentId"]
    assert shop.refund(order["id"], {"amount": PRICE + 1, "reason": "x"}, status=409).json[
        "error"]["details"] == {"remaining": PRICE, "requested": PRICE + 1}
    first = shop.refund(order["id"], {"amount": 20000, "reason": "x"}).json
    # the extra payment refunded meanwhile changes nothing of what is left
    shop.deliver("refund.processed", refund("rfnd_EXTRA1", "pay_EXTRA1"),
                 payment(order["razorpayOrderId"], "pay_EXTRA1", status="refunded"))
    assert shop.order(order["id"])["refundedAmount"] == 20000
    rest = shop.refund(order["id"], {"reason": "the rest"}).json
    assert (first["razorpayPaymentId"], rest["razorpayPaymentId"], rest["amount"]) == (
        paying, paying, PRICE - 20000)
    assert shop.coins() == 0
    shown = shop.order(order["id"])
    assert (shown["refundedAmount"], shown["refundStatus"]) == (PRICE, "full")
    assert (first["appliesToOrder"], rest["appliesToOrder"]) == (True, True)
    assert shop.ledger_problems() == []


def test_a_refund_event_that_is_the_first_news_of_the_extra_payment(shop, dbsession):
    """refund.created then refund.processed, for a payment the app never saw captured."""
    order = shop.paid_order()
    extra = payment(order["razorpayOrderId"], "pay_EXTRA2", status="refunded")
    shop.deliver("refund.created", refund("rfnd_EXTRA2", "pay_EXTRA2", "pending"), extra)
    # a pending refund of the extra payment does not hold back the paying one
    assert shop.refund(order["id"], {"amount": PRICE + 1, "reason": "x"}, status=409).json[
        "error"]["details"]["remaining"] == PRICE
    shop.deliver("refund.processed", refund("rfnd_EXTRA2", "pay_EXTRA2"), extra)
    assert shop.coins() == 600
    shown = shop.order(order["id"])
    assert (shown["refundedAmount"], shown["refundStatus"]) == (0, "none")
    assert refund_postings(dbsession) == []
    [settled] = shop.refunds(order["id"])
    assert (settled["razorpayPaymentId"], settled["status"], settled["clawedBack"]) == (
        "pay_EXTRA2", "processed", {})
    assert settled["appliesToOrder"] is False


def test_admins_see_which_refunds_apply_to_their_order(shop, paid_twice):
    order = paid_twice
    shop.deliver("refund.processed", refund("rfnd_EXTRA1", "pay_EXTRA1"),
                 payment(order["razorpayOrderId"], "pay_EXTRA1", status="refunded"))
    other = shop.paid_order("carol")
    real = shop.refund(other["id"], {"amount": 100, "reason": "x"}).json
    listed = shop.testapp.get(f"{PREFIX}/admin/refunds", headers=shop.auth("ops", "admin"),
                              status=200).json["items"]
    assert [(r["orderId"], r["razorpayPaymentId"], r["appliesToOrder"]) for r in listed] == [
        (other["id"], real["razorpayPaymentId"], True),
        (order["id"], "pay_EXTRA1", False)]
