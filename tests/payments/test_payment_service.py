"""``IPaymentService.apply_gateway_payment``: one state machine, whatever door a payment
comes through."""

from __future__ import annotations

import datetime as dt

import pytest

from banter_payments.errors import GatewayError
from banter_payments.events import OrderPaid, PaymentFailed
from banter_payments.orders.models import Order
from banter_payments.payments.interfaces import IPaymentService
from banter_payments.payments.services import MalformedPaymentEntity, PaymentMismatch
from banter_payments.wallet.services import active_entitlements


def service(job):
    """The state machine as a job builds it (no request)."""
    return job.find_service(IPaymentService)


@pytest.fixture
def apply(run):
    """``apply(order, entity, source=...)`` in its own committed transaction."""

    def call(order, entity, source="webhook"):
        def work(job):
            fresh = job.dbsession.get(Order, order.id)
            result = service(job).apply_gateway_payment(fresh, entity, source=source)
            return result.status, result.fulfilled_at is not None

        return run(work)

    return call


def paid_events(announced):
    return [e for e in announced if isinstance(e, OrderPaid)]


class TestCapture:
    def test_a_captured_payment_pays_and_fulfils_the_order_once(self, kit, dbsession, apply,
                                                                announced):
        order = kit.make_order(dbsession)
        entity = kit.payment_entity(order.razorpay_order_id, status="captured")

        assert apply(order, entity) == ("paid", True)

        order = kit.reload(dbsession, order)
        assert order.paid_at is not None and order.fulfilled_at is not None
        assert order.is_confirmed is True
        assert kit.postings(dbsession, f"order:{order.id}") == 1
        assert kit.balance(dbsession, "alice") == 600
        [payment] = kit.payment_rows(dbsession, order.id)
        assert (payment.razorpay_payment_id, payment.status, payment.amount,
                payment.method) == (entity["id"], "captured", 44900, "upi")
        assert payment.captured_at is not None and payment.authorized_at is not None
        assert [e.order.id for e in paid_events(announced)] == [order.id]

    @pytest.mark.parametrize("source", ["verify", "webhook", "reconcile"])
    def test_every_door_after_the_first_changes_nothing(self, kit, dbsession, apply,
                                                        announced, source):
        order = kit.make_order(dbsession)
        entity = kit.payment_entity(order.razorpay_order_id)
        apply(order, entity, "webhook")

        assert apply(order, entity, source) == ("paid", True)
        assert apply(order, entity, source) == ("paid", True)

        assert kit.postings(dbsession, f"order:{order.id}") == 1
        assert kit.balance(dbsession, "alice") == 600
        assert len(kit.payment_rows(dbsession, order.id)) == 1
        assert len(paid_events(announced)) == 1

    def test_authorized_then_captured_walks_through_attempted(self, kit, dbsession, apply,
                                                              gateway):
        order = kit.make_order(dbsession)
        entity = kit.payment_entity(order.razorpay_order_id, status="authorized")

        assert apply(order, entity) == ("attempted", False)
        assert kit.payment_rows(dbsession, order.id)[0].status == "authorized"
        assert kit.balance(dbsession, "alice") == 0
        assert gateway.calls == []  # razorpay.capture = auto: Razorpay captures

        assert apply(order, dict(entity, status="captured", captured=True)) == ("paid", True)
        assert kit.payment_rows(dbsession, order.id)[0].status == "captured"
        assert kit.balance(dbsession, "alice") == 600

    def test_captured_may_come_before_authorized(self, kit, dbsession, apply):
        order = kit.make_order(dbsession)
        entity = kit.payment_entity(order.razorpay_order_id, status="captured")
        apply(order, entity)

        assert apply(order, dict(entity, status="authorized", captured=False)) == ("paid", True)
        assert kit.payment_rows(dbsession, order.id)[0].status == "captured"

    def test_an_expired_order_whose_money_arrives_late_is_paid(self, kit, dbsession, apply):
        order = kit.make_order(dbsession, status="expired")
        assert apply(order, kit.payment_entity(order.razorpay_order_id)) == ("paid", True)
        assert kit.balance(dbsession, "alice") == 600

    def test_a_service_order_is_paid_and_announced_but_grants_nothing(self, kit, dbsession,
                                                                      apply, announced):
        order = kit.make_order(dbsession, user_id=None, grants={}, sku=None)
        assert apply(order, kit.payment_entity(order.razorpay_order_id)) == ("paid", True)
        assert kit.postings(dbsession, f"order:{order.id}") == 0
        assert [e.order.id for e in paid_events(announced)] == [order.id]

    def test_entitlements_are_granted_with_the_order(self, kit, dbsession, apply):
        order = kit.make_order(dbsession, grants={}, entitlements=["premium"])
        apply(order, kit.payment_entity(order.razorpay_order_id))
        apply(order, kit.payment_entity(order.razorpay_order_id))
        dbsession.rollback()
        assert set(active_entitlements(dbsession, "alice")) == {"premium"}


class TestForwardOnly:
    def test_a_late_failure_never_undoes_a_capture(self, kit, dbsession, apply, announced):
        order = kit.make_order(dbsession)
        entity = kit.payment_entity(order.razorpay_order_id, status="captured")
        apply(order, entity)

        assert apply(order, dict(entity, status="failed", captured=False)) == ("paid", True)

        assert kit.payment_rows(dbsession, order.id)[0].status == "captured"
        assert not [e for e in announced if isinstance(e, PaymentFailed)]

    def test_a_failed_attempt_never_fails_an_order_another_attempt_paid(self, kit, dbsession,
                                                                        apply, announced):
        order = kit.make_order(dbsession)
        good = kit.payment_entity(order.razorpay_order_id, status="captured")
        bad = kit.payment_entity(order.razorpay_order_id, status="failed")
        apply(order, good)

        assert apply(order, bad) == ("paid", True)

        statuses = {p.razorpay_payment_id: p.status for p in kit.payment_rows(dbsession,
                                                                             order.id)}
        assert statuses == {good["id"]: "captured", bad["id"]: "failed"}
        assert kit.balance(dbsession, "alice") == 600
        assert not [e for e in announced if isinstance(e, PaymentFailed)]

    def test_a_failed_attempt_on_an_open_order_is_announced(self, kit, dbsession, apply,
                                                            announced):
        order = kit.make_order(dbsession)
        bad = kit.payment_entity(order.razorpay_order_id, status="failed")

        assert apply(order, bad) == ("attempted", False)
        assert apply(order, bad) == ("attempted", False)

        [payment] = kit.payment_rows(dbsession, order.id)
        assert (payment.status, payment.error_code) == ("failed", "BAD_REQUEST_ERROR")
        failed = [e for e in announced if isinstance(e, PaymentFailed)]
        assert [(e.order.id, e.payment.razorpay_payment_id) for e in failed] == [
            (order.id, bad["id"])]

    def test_late_authorization_after_a_failure_then_capture(self, kit, dbsession, apply):
        order = kit.make_order(dbsession)
        entity = kit.payment_entity(order.razorpay_order_id, status="failed")
        apply(order, entity)

        assert apply(order, dict(entity, status="authorized")) == ("attempted", False)
        assert kit.payment_rows(dbsession, order.id)[0].status == "authorized"
        assert apply(order, dict(entity, status="captured", captured=True)) == ("paid", True)
        assert kit.balance(dbsession, "alice") == 600

    def test_an_uncaptured_authorization_refunded_by_razorpay_pays_nothing(self, kit,
                                                                           dbsession, apply):
        order = kit.make_order(dbsession)
        entity = kit.payment_entity(order.razorpay_order_id, status="authorized")
        apply(order, entity)

        assert apply(order, dict(entity, status="refunded", captured=False)) == (
            "attempted", False)
        assert kit.payment_rows(dbsession, order.id)[0].status == "refunded"
        assert kit.balance(dbsession, "alice") == 0

    def test_a_refund_seen_before_the_capture_still_pays_then_stays_refunded(
            self, kit, dbsession, apply):
        order = kit.make_order(dbsession)
        entity = kit.payment_entity(order.razorpay_order_id, status="refunded", captured=True)

        assert apply(order, entity) == ("paid", True)
        assert apply(order, dict(entity, status="captured")) == ("paid", True)
        assert kit.payment_rows(dbsession, order.id)[0].status == "refunded"
        assert kit.postings(dbsession, f"order:{order.id}") == 1

    def test_a_second_captured_payment_is_flagged_not_fulfilled_again(self, kit, dbsession,
                                                                      apply):
        order = kit.make_order(dbsession)
        first = kit.payment_entity(order.razorpay_order_id)
        second = kit.payment_entity(order.razorpay_order_id)
        apply(order, first)

        assert apply(order, second) == ("paid", True)

        assert kit.postings(dbsession, f"order:{order.id}") == 1
        assert kit.balance(dbsession, "alice") == 600
        order = kit.reload(dbsession, order)
        assert order.anomaly == (f"payment {second['id']} was captured for an order already "
                                 f"paid by {first['id']}; refund it")


class TestMismatch:
    @pytest.mark.parametrize(("change", "field"), [
        ({"amount": 100}, "amount"),
        ({"currency": "USD"}, "currency"),
        ({"order_id": "order_somebodyelse"}, "orderId"),
    ])
    def test_a_mismatch_is_noted_and_never_fulfilled(self, kit, dbsession, run, change,
                                                     field):
        order = kit.make_order(dbsession)
        entity = dict(kit.payment_entity(order.razorpay_order_id), **change)

        def work(job):
            fresh = job.dbsession.get(Order, order.id)
            with pytest.raises(PaymentMismatch) as caught:
                service(job).apply_gateway_payment(fresh, entity, source="verify")
            return caught.value

        error = run(work)  # the caller kept its transaction: the note is committed

        assert (error.status, error.code) == (409, "conflict")
        assert list(error.details) == [field]
        order = kit.reload(dbsession, order)
        assert order.status == "created" and order.fulfilled_at is None
        assert order.anomaly.startswith(f"verify reported payment {entity['id']} that does "
                                        f"not match: ")
        assert kit.payment_rows(dbsession, order.id) == []
        assert kit.balance(dbsession, "alice") == 0

    @pytest.mark.parametrize("entity", [
        None, [], {}, {"id": "pay_1", "status": "captured", "amount": "44900",
                       "currency": "INR", "order_id": "order_1"},
        {"id": "pay_1", "status": "shipped", "amount": 44900, "currency": "INR"},
        {"id": "pay_1", "status": ["captured"], "amount": 44900, "currency": "INR"},
        {"id": {"x": 1}, "status": "captured", "amount": 44900, "currency": "INR"},
        {"id": "pay_1", "status": "captured", "amount": 449.0, "currency": "INR"},
        {"id": "pay_1", "status": "captured", "amount": True, "currency": "INR"},
    ])
    def test_a_malformed_entity_is_refused_before_anything_is_written(self, kit, dbsession,
                                                                      run, entity):
        order = kit.make_order(dbsession)

        def work(job):
            fresh = job.dbsession.get(Order, order.id)
            with pytest.raises(MalformedPaymentEntity):
                service(job).apply_gateway_payment(fresh, entity, source="webhook")

        run(work)
        assert kit.reload(dbsession, order).status == "created"

    def test_an_unknown_source_is_a_programming_error(self, kit, dbsession, run):
        order = kit.make_order(dbsession)
        with pytest.raises(ValueError, match="source must be one of"):
            run(lambda job: service(job).apply_gateway_payment(
                job.dbsession.get(Order, order.id),
                kit.payment_entity(order.razorpay_order_id), source="carrier-pigeon"))


class TestVerified:
    def test_mark_verified_moves_an_open_order_only(self, kit, dbsession, run):
        opened = kit.make_order(dbsession, status="attempted")
        paid = kit.make_order(dbsession, status="paid")
        expired = kit.make_order(dbsession, status="expired")

        def work(job):
            return [service(job).mark_verified(job.dbsession.get(Order, o.id)).status
                    for o in (opened, paid, expired)]

        assert run(work) == ["verified", "paid", "expired"]
        assert kit.reload(dbsession, opened).verified_at is not None

    def test_a_verified_order_is_paid_by_the_capture(self, kit, dbsession, apply):
        order = kit.make_order(dbsession, status="verified")
        assert apply(order, kit.payment_entity(order.razorpay_order_id)) == ("paid", True)


class TestManualCapture:
    @pytest.fixture
    def settings(self, settings):
        return dict(settings, **{"razorpay.capture": "manual"})

    def test_an_authorized_payment_is_captured_then_fulfilled(self, kit, dbsession, apply,
                                                               gateway):
        order = kit.make_order(dbsession)
        entity = gateway.add(kit.payment_entity(order.razorpay_order_id, status="authorized"))

        assert apply(order, entity) == ("paid", True)

        assert gateway.calls == [("capture_payment", entity["id"])]
        assert kit.payment_rows(dbsession, order.id)[0].status == "captured"
        assert kit.balance(dbsession, "alice") == 600

    def test_a_stale_authorized_report_for_a_paid_order_captures_nothing(
            self, kit, dbsession, apply, gateway):
        order = kit.make_order(dbsession)
        entity = gateway.add(kit.payment_entity(order.razorpay_order_id, status="authorized"))
        apply(order, entity)

        assert apply(order, entity) == ("paid", True)
        assert gateway.calls == [("capture_payment", entity["id"])]
        assert kit.postings(dbsession, f"order:{order.id}") == 1

    def test_a_payment_someone_else_captured_first_is_taken_as_captured(
            self, kit, dbsession, apply, gateway):
        order = kit.make_order(dbsession)
        entity = kit.payment_entity(order.razorpay_order_id, status="authorized")
        gateway.add(dict(entity, status="captured", captured=True))

        assert apply(order, entity) == ("paid", True)
        assert gateway.calls == [("capture_payment", entity["id"]),
                                 ("fetch_payment", entity["id"])]

    def test_a_failed_capture_raises_and_writes_nothing(self, kit, dbsession, run, gateway):
        order = kit.make_order(dbsession)
        entity = gateway.add(kit.payment_entity(order.razorpay_order_id, status="authorized"))
        gateway.failing.add("capture_payment")
        gateway.failing.add("fetch_payment")

        with pytest.raises(GatewayError):
            run(lambda job: service(job).apply_gateway_payment(
                job.dbsession.get(Order, order.id), entity, source="webhook"))

        assert kit.reload(dbsession, order).status == "created"
        assert kit.payment_rows(dbsession, order.id) == []


def test_paid_at_is_the_time_of_the_winning_report(kit, dbsession, run):
    order = kit.make_order(dbsession)
    when = dt.datetime(2030, 1, 2, 3, 4, 5, tzinfo=dt.UTC)
    run(lambda job: service(job).apply_gateway_payment(
        job.dbsession.get(Order, order.id),
        kit.payment_entity(order.razorpay_order_id), source="reconcile", now=when))
    order = kit.reload(dbsession, order)
    assert (order.paid_at, order.fulfilled_at) == (when, when)
