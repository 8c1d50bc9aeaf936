"""A NUL inside a signed refund event is made storable, the same on every database.

It used to reach a query as it was: SQLite found nothing and the delivery was processed,
PostgreSQL refused the parameter and the delivery failed with 503 on every retry.
"""

from __future__ import annotations

import base64

import sqlalchemy as sa

from banter_payments.settings import SANDBOX_KEY_ID, SANDBOX_KEY_SECRET
from banter_payments.webhooks.models import WebhookDelivery

PAYMENTS = "/api/payments/_sandbox/razorpay/v1/payments/"
BASIC = {"Authorization": "Basic " + base64.b64encode(
    f"{SANDBOX_KEY_ID}:{SANDBOX_KEY_SECRET}".encode()).decode()}


def test_a_nul_in_the_refund_note_is_processed_not_failed(shop, dbsession):
    order = shop.paid_order()
    pay_id = order["payment"]["razorpayPaymentId"]
    payment = shop.testapp.get(PAYMENTS + pay_id, headers=BASIC, status=200)
    refund = {"id": "rfnd_NULNOTE000001", "entity": "refund", "amount": 10000,
              "currency": "INR", "payment_id": pay_id,
              "notes": {"refund_id": "rfd_\x00evil"}, "receipt": "\x00",
              "status": "processed", "speed_requested": "normal",
              "created_at": 1700000000}
    answer = shop.deliver("refund.processed", refund, payment.json, status=200)
    assert answer.outcome == "processed"
    # Recorded as a dashboard refund of that payment, its note made storable.
    [row] = shop.refunds(order["id"])
    assert row["razorpayRefundId"] == "rfnd_NULNOTE000001"
    assert row["status"] == "processed"
    dbsession.rollback()
    outcomes = set(dbsession.scalars(sa.select(WebhookDelivery.outcome)))
    assert "failed" not in outcomes
