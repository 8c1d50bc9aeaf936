"""Refunds: partial and full, the ceiling under concurrency, idempotency keys, outcomes."""

from __future__ import annotations

import datetime as dt
import json
import threading

import razorpay
from sqlalchemy import func, select

from banter_payments.sandbox.emulator import emulator_service
from banter_payments.sandbox.models import SandboxRefund
from tests.common.inbox import flush_webhooks


def events_of(rows) -> list[str]:
    return [row.event for row in rows]


def test_partial_refunds_then_the_rest_make_the_payment_refunded(shop, emu):
    payment = shop.captured(10000)
    first = shop.refund(payment["id"], {"amount": 3000})
    assert (first["amount"], first["status"]) == (3000, "processed")
    after_first = shop.payment(payment["id"])
    assert (
        after_first["status"],
        after_first["amount_refunded"],
        after_first["refund_status"],
        after_first["captured"],
    ) == ("captured", 3000, "partial", True)

    rest = shop.refund(payment["id"])
    assert rest["amount"] == 7000
    after_rest = shop.payment(payment["id"])
    assert (after_rest["status"], after_rest["amount_refunded"], after_rest["refund_status"]) == (
        "refunded",
        10000,
        "full",
    )
    refunds = emu.get(f"/v1/payments/{payment['id']}/refunds").json
    assert (refunds["entity"], refunds["count"]) == ("collection", 2)
    assert [r["id"] for r in refunds["items"]] == [rest["id"], first["id"]]
    assert emu.get(f"/v1/refunds/{first['id']}").json == first

    error = shop.refund(payment["id"], {"amount": 100}, status=400)["error"]
    assert error["description"] == "The payment has been fully refunded already"


def test_an_order_stays_paid_after_a_full_refund(shop, emu):
    payment = shop.captured(10000)
    shop.refund(payment["id"])
    assert emu.get(f"/v1/orders/{payment['order_id']}").json["status"] == "paid"


def test_refunds_never_exceed_what_was_captured(shop):
    payment = shop.captured(10000)
    shop.refund(payment["id"], {"amount": 6000})
    error = shop.refund(payment["id"], {"amount": 4001}, status=400)["error"]
    assert (error["code"], error["field"], error["description"]) == (
        "BAD_REQUEST_ERROR",
        "amount",
        "The total refund amount is greater than the refund payment amount",
    )
    assert shop.payment(payment["id"])["amount_refunded"] == 6000


def test_only_captured_payments_can_be_refunded(shop):
    authorized = shop.pay(shop.order(payment_capture=0)["id"])["razorpay_payment_id"]
    error = shop.refund(authorized, {"amount": 100}, status=400)["error"]
    assert error["description"] == "Only captured payments can be refunded"
    failed = shop.pay(shop.order()["id"], outcome="failure")["error"]["metadata"]["payment_id"]
    error = shop.refund(failed, {}, status=400)["error"]
    assert error["description"] == "Only captured payments can be refunded"


def test_the_same_key_and_body_return_the_first_refund(shop, emu):
    payment = shop.captured(10000)
    body = {"amount": 2000, "notes": {"reason": "duplicate"}}
    first = shop.refund(payment["id"], body, key="refund-key-0001")
    again = shop.refund(payment["id"], body, key="refund-key-0001")
    assert again == first
    assert emu.get(f"/v1/payments/{payment['id']}/refunds").json["count"] == 1
    assert shop.payment(payment["id"])["amount_refunded"] == 2000


def test_the_same_key_with_another_body_is_refused(shop):
    payment = shop.captured(10000)
    shop.refund(payment["id"], {"amount": 2000}, key="refund-key-0002")
    error = shop.refund(payment["id"], {"amount": 2500}, key="refund-key-0002", status=400)
    assert (error["error"]["code"], error["error"]["field"]) == (
        "BAD_REQUEST_ERROR",
        "X-Refund-Idempotency",
    )
    assert shop.payment(payment["id"])["amount_refunded"] == 2000


def test_a_replayed_key_returns_the_first_refund_even_once_fully_refunded(shop):
    payment = shop.captured(10000)
    first = shop.refund(payment["id"], {}, key="refund-key-0003")
    assert first["amount"] == 10000
    assert shop.refund(payment["id"], {}, key="refund-key-0003") == first


def test_idempotency_keys_are_scoped_to_the_payment(shop):
    one, two = shop.captured(10000), shop.captured(10000)
    first = shop.refund(one["id"], {"amount": 500}, key="shared-key-0001")
    second = shop.refund(two["id"], {"amount": 500}, key="shared-key-0001")
    assert first["id"] != second["id"]
    assert second["payment_id"] == two["id"]


def test_idempotency_keys_have_at_least_ten_characters(shop):
    payment = shop.captured(10000)
    error = shop.refund(payment["id"], {"amount": 100}, key="123456789", status=400)["error"]
    assert error["field"] == "X-Refund-Idempotency"
    assert shop.refund(payment["id"], {"amount": 100}, key="1234567890")["amount"] == 100


def test_a_refund_marked_to_fail_fails_and_gives_the_amount_back(emulator, shop, outbox):
    payment = shop.captured(10000)
    refund = shop.refund(payment["id"], {"amount": 4000, "notes": {"sandbox_outcome": "failed"}})
    assert (refund["status"], refund["speed_processed"], refund["acquirer_data"]) == (
        "failed",
        None,
        {"arn": None},
    )
    after = shop.payment(payment["id"])
    assert (after["amount_refunded"], after["refund_status"], after["status"]) == (
        0,
        None,
        "captured",
    )
    rows = [row for row in outbox(emulator) if row.event.startswith("refund.")]
    assert events_of(rows) == ["refund.created", "refund.failed"]
    failed = json.loads(rows[1].body)
    assert failed["contains"] == ["refund", "payment"]
    assert failed["payload"]["refund"]["entity"]["status"] == "failed"
    assert failed["payload"]["payment"]["entity"]["amount_refunded"] == 0


def test_pending_refunds_settle_later(make_app, shop_for, outbox):
    app = make_app({"sandbox.refund_status": "pending"})
    shop = shop_for(app)
    payment = shop.captured(10000)
    refund = shop.refund(payment["id"], {"amount": 2500, "speed": "optimum"})
    assert (refund["status"], refund["speed_processed"], refund["acquirer_data"]["arn"]) == (
        "pending",
        None,
        None,
    )
    # A pending refund already counts against what is left.
    assert shop.payment(payment["id"])["amount_refunded"] == 2500
    assert events_of(outbox(app))[-1] == "refund.created"

    flush_webhooks(app)
    settled = shop.testapp.get(f"/v1/refunds/{refund['id']}").json
    assert (settled["status"], settled["speed_processed"]) == ("processed", "instant")
    assert settled["acquirer_data"]["arn"].isdigit()
    assert events_of(outbox(app))[-2:] == ["refund.created", "refund.processed"]


def test_pending_refunds_settle_when_their_time_comes(make_app, shop_for):
    app = make_app({"sandbox.refund_status": "pending", "sandbox.refund_delay": "60"})
    shop = shop_for(app)
    payment = shop.captured(10000)
    refund = shop.refund(payment["id"], {"amount": 100})
    service = emulator_service(app)
    assert service.settle_refunds() == 0
    with service.reader() as session:
        settle_at = session.scalar(
            select(SandboxRefund.settle_at).where(SandboxRefund.id == refund["id"])
        )
    assert service.settle_refunds(now=settle_at - dt.timedelta(seconds=1)) == 0
    assert shop.testapp.get(f"/v1/refunds/{refund['id']}").json["status"] == "pending"
    assert service.settle_refunds(now=settle_at) == 1
    assert shop.testapp.get(f"/v1/refunds/{refund['id']}").json["status"] == "processed"


def test_a_pending_refund_marked_to_fail_gives_the_amount_back_when_it_settles(make_app, shop_for):
    app = make_app({"sandbox.refund_status": "pending"})
    shop = shop_for(app)
    payment = shop.captured(10000)
    refund = shop.refund(payment["id"], {"notes": {"sandbox_outcome": "failed"}})
    assert shop.payment(payment["id"])["status"] == "refunded"
    emulator_service(app).settle_refunds(everything=True)
    assert shop.testapp.get(f"/v1/refunds/{refund['id']}").json["status"] == "failed"
    after = shop.payment(payment["id"])
    assert (after["status"], after["amount_refunded"], after["refund_status"]) == (
        "captured",
        0,
        None,
    )


def test_concurrent_refunds_never_exceed_the_captured_amount(emulator, shop, client_for):
    payment = shop.captured(10000)
    outcomes: list[str] = []
    lock = threading.Lock()
    start = threading.Barrier(8)

    def refund(index: int) -> None:
        client = client_for(emulator)
        start.wait()
        try:
            client.payment.refund(
                payment["id"],
                {"amount": 3000},
                headers={"X-Refund-Idempotency": f"concurrent-{index:04d}"},
            )
            result = "refunded"
        except razorpay.errors.BadRequestError as exc:
            result = str(exc)
        with lock:
            outcomes.append(result)

    threads = [threading.Thread(target=refund, args=(i,)) for i in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(30)

    assert sorted(outcomes) == sorted(
        ["refunded"] * 3 + ["The total refund amount is greater than the refund payment amount"] * 5
    )
    after = shop.payment(payment["id"])
    assert (after["amount_refunded"], after["status"]) == (9000, "captured")
    service = emulator_service(emulator)
    with service.reader() as session:
        total = session.scalar(
            select(func.sum(SandboxRefund.amount)).where(SandboxRefund.payment_id == payment["id"])
        )
    assert total == 9000


def test_concurrent_retries_with_one_key_make_one_refund(emulator, shop, client_for):
    payment = shop.captured(10000)
    ids: list[str] = []
    lock = threading.Lock()
    start = threading.Barrier(6)

    def refund() -> None:
        client = client_for(emulator)
        start.wait()
        answer = client.payment.refund(
            payment["id"], {"amount": 1000}, headers={"X-Refund-Idempotency": "one-key-for-all"}
        )
        with lock:
            ids.append(answer["id"])

    threads = [threading.Thread(target=refund) for _ in range(6)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(30)

    assert len(ids) == 6 and len(set(ids)) == 1
    assert shop.payment(payment["id"])["amount_refunded"] == 1000
