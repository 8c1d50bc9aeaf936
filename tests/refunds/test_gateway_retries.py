"""A refund whose gateway call timed out, retried: never two refunds at the gateway."""

from __future__ import annotations

import pytest
from pyramid_retry import RetryableException

from banter_payments.errors import GatewayError
from banter_payments.gateway.razorpay import RazorpayGateway
from banter_payments.jobs import Job
from banter_payments.reconcile.interfaces import IReconcileService
from banter_payments.refunds import services
from banter_payments.refunds.interfaces import IRefundService

PRICE = 44900


@pytest.fixture
def timeout_once(monkeypatch):
    """The first refund call reaches Razorpay, but its answer never comes back."""
    original = RazorpayGateway.refund_payment
    calls = []

    def refund_payment(self, *args, **kwargs):
        calls.append(args)
        entity = original(self, *args, **kwargs)
        if len(calls) == 1:
            raise GatewayError("Razorpay did not answer in time to refund a payment.",
                               details={"reason": "timeout"})
        return entity

    monkeypatch.setattr(RazorpayGateway, "refund_payment", refund_payment)
    return calls


def test_a_timed_out_refund_stays_pending_and_a_webhook_settles_it(shop, timeout_once):
    order = shop.paid_order()
    key = {"Idempotency-Key": "refund-ord-1"}
    response = shop.refund(order["id"], {"amount": 20000, "reason": "x"}, status=502,
                           headers=key)
    assert response.json["error"]["code"] == "gateway_error"
    [row] = shop.rows()
    assert (row.status, row.razorpay_refund_id) == ("pending", None)
    assert response.json["error"]["details"]["refundId"] == row.id
    assert shop.coins() == 600
    assert len(shop.gateway_refunds()) == 1  # it did happen at the gateway

    shop.flush_webhooks()  # refund.created / refund.processed find it by its note
    [row] = shop.rows()
    assert row.status == "processed" and row.razorpay_refund_id is not None
    assert shop.coins() == 600 - 267

    # the admin retries with the same key: the settled refund, no second gateway call
    retried = shop.refund(order["id"], {"amount": 20000, "reason": "x"}, headers=key).json
    assert (retried["id"], retried["status"]) == (row.id, "processed")
    assert len(timeout_once) == 1
    assert len(shop.gateway_refunds()) == 1
    assert shop.order(order["id"])["refundedAmount"] == 20000
    assert shop.ledger_problems() == []


def test_a_retry_resends_the_same_gateway_key_and_gets_the_first_refund(shop, timeout_once):
    order = shop.paid_order()
    key = {"Idempotency-Key": "refund-ord-2"}
    shop.refund(order["id"], {"amount": 20000, "reason": "x"}, status=502, headers=key)
    retried = shop.refund(order["id"], {"amount": 20000, "reason": "x"}, headers=key).json
    assert retried["status"] == "processed"
    assert len(timeout_once) == 2
    assert timeout_once[0][2] == timeout_once[1][2]  # the same X-Refund-Idempotency
    [remote] = shop.gateway_refunds()
    assert remote.id == retried["razorpayRefundId"]
    assert [r.id for r in shop.rows()] == [retried["id"]]
    assert shop.coins() == 600 - 267
    # and the answer is now stored: a third call replays it
    third = shop.refund(order["id"], {"amount": 20000, "reason": "x"}, headers=key)
    assert third.headers["Idempotent-Replayed"] == "true"
    assert third.json == retried


def test_the_same_key_for_another_amount_after_a_timeout_is_422(shop, timeout_once):
    order = shop.paid_order()
    key = {"Idempotency-Key": "refund-ord-3"}
    shop.refund(order["id"], {"amount": 20000, "reason": "x"}, status=502, headers=key)
    response = shop.refund(order["id"], {"amount": 100, "reason": "x"}, status=422,
                           headers=key)
    assert response.json["error"]["code"] == "idempotency_key_reused"
    assert len(shop.rows()) == 1 and len(shop.gateway_refunds()) == 1


def test_one_refund_request_sent_twice_with_one_key_refunds_once(shop):
    order = shop.paid_order()
    key = {"Idempotency-Key": "refund-ord-4"}
    first = shop.refund(order["id"], {"amount": 5000, "reason": "x"}, headers=key)
    second = shop.refund(order["id"], {"amount": 5000, "reason": "x"}, headers=key)
    assert second.body == first.body
    assert len(shop.rows()) == 1 and len(shop.gateway_refunds()) == 1


def test_a_request_retried_by_pyramid_retry_refunds_once(shop, monkeypatch):
    """The first attempt loses a database race after the gateway answered."""
    original = services.RefundService.apply_refund_entity
    calls = []

    def flaky(service, refund, entity):
        request = service.events.source  # the request the service was built for
        calls.append(request.environ["retry.attempt"])
        if request.environ["retry.attempt"] == 0:
            raise RetryableException("serialization failure")
        return original(service, refund, entity)

    monkeypatch.setattr(services.RefundService, "apply_refund_entity", flaky)
    order = shop.paid_order()
    refund = shop.refund(order["id"], {"amount": 20000, "reason": "x"}).json
    assert calls == [0, 1]
    assert refund["status"] == "processed"
    assert [r.id for r in shop.rows()] == [refund["id"]]
    assert len(shop.gateway_refunds()) == 1
    assert shop.coins() == 600 - 267


def test_the_reconcile_hook_resumes_a_refund_left_pending(shop, timeout_once, registry):
    """No client retry, no webhook: the job re-sends it with its own key, once."""
    import datetime as dt

    from banter_payments.clock import utcnow
    order = shop.paid_order()
    shop.refund(order["id"], {"amount": 20000, "reason": "x"}, status=502)
    with Job(registry) as job:
        refunds = job.find_service(IRefundService)
        too_soon = refunds.resume_pending_refunds()
        report = refunds.resume_pending_refunds(now=utcnow() + dt.timedelta(minutes=16))
    assert too_soon == {"resumed": [], "errors": {}}
    [row] = shop.rows()
    assert report == {"resumed": [{"id": row.id, "status": "processed"}], "errors": {}}
    assert row.razorpay_refund_id == shop.gateway_refunds()[0].id
    assert len(shop.gateway_refunds()) == 1
    assert timeout_once[0][2] == timeout_once[1][2]
    assert shop.coins() == 600 - 267


def test_the_reconcile_job_itself_resumes_a_refund_left_pending(shop, timeout_once, registry):
    """The cron job operators run is what settles it, not only the service function."""
    import datetime as dt

    from banter_payments.clock import utcnow
    order = shop.paid_order()
    shop.refund(order["id"], {"amount": 20000, "reason": "x"}, status=502)
    with Job(registry) as job:
        report = job.find_service(IReconcileService).reconcile_orders(
            now=utcnow() + dt.timedelta(minutes=16))
    [row] = shop.rows()
    assert report.to_json()["refundsResumed"] == [{"id": row.id, "status": "processed"}]
    assert report.errors == {}
    assert len(shop.gateway_refunds()) == 1
    assert shop.coins() == 600 - 267


@pytest.fixture
def unanswered(monkeypatch):
    """Refund calls reach Razorpay but their answers are lost while ``mode["lost"]``;
    ``mode["broken"]`` names refunds whose call raises something unexpected instead."""
    original = RazorpayGateway.refund_payment
    mode = {"lost": True, "broken": set(), "calls": []}

    def refund_payment(self, razorpay_payment_id, amount, key, notes, receipt):
        mode["calls"].append(receipt)
        if receipt in mode["broken"]:
            raise ValueError("the SDK choked on the answer")
        entity = original(self, razorpay_payment_id, amount, key, notes, receipt)
        if mode["lost"]:
            raise GatewayError("Razorpay did not answer in time to refund a payment.",
                               details={"reason": "timeout"})
        return entity

    monkeypatch.setattr(RazorpayGateway, "refund_payment", refund_payment)
    return mode


def three_unanswered_refunds(shop) -> tuple[dict, list[str]]:
    order = shop.paid_order()
    for _ in range(3):
        shop.refund(order["id"], {"amount": 10000, "reason": "x"}, status=502)
    rows = shop.rows()
    assert [(r.status, r.razorpay_refund_id) for r in rows] == [("pending", None)] * 3
    return order, [r.id for r in rows]


def test_one_refund_failing_to_resume_does_not_stop_the_others(shop, unanswered, registry,
                                                               monkeypatch):
    import datetime as dt

    from banter_payments.clock import utcnow
    order, (broken, unrecordable, fine) = three_unanswered_refunds(shop)
    unanswered["lost"] = False
    unanswered["broken"] = {broken}
    original = services.RefundService.apply_refund_entity

    def apply_refund_entity(service, refund, entity):
        if refund.id == unrecordable:
            raise RuntimeError("the database went away\nSQL: UPDATE ...")
        return original(service, refund, entity)

    monkeypatch.setattr(services.RefundService, "apply_refund_entity", apply_refund_entity)
    later = utcnow() + dt.timedelta(minutes=16)
    with Job(registry) as job:
        report = job.find_service(IRefundService).resume_pending_refunds(now=later)
    assert report == {
        "resumed": [{"id": fine, "status": "processed"}],
        "errors": {broken: "ValueError: the SDK choked on the answer",
                   unrecordable: "RuntimeError: the database went away"},
    }
    rows = {r.id: r for r in shop.rows()}
    assert (rows[broken].status, rows[broken].razorpay_refund_id) == ("pending", None)
    assert (rows[unrecordable].status,
            rows[unrecordable].razorpay_refund_id) == ("pending", None)
    assert rows[fine].status == "processed"
    assert shop.coins() == 600 - 133
    assert shop.order(order["id"])["refundedAmount"] == 10000

    # once the trouble is gone, the next run settles the two that were left
    unanswered["broken"] = set()
    monkeypatch.setattr(services.RefundService, "apply_refund_entity", original)
    with Job(registry) as job:
        report = job.find_service(IRefundService).resume_pending_refunds(now=later)
    assert report == {"resumed": [{"id": broken, "status": "processed"},
                                  {"id": unrecordable, "status": "processed"}],
                      "errors": {}}
    assert len(shop.gateway_refunds()) == 3  # each refund's own key: never a second one
    assert shop.coins() == 600 - 400
    assert shop.order(order["id"])["refundedAmount"] == 30000
    assert shop.ledger_problems() == []


def test_the_reconcile_job_reports_a_refund_it_could_not_resume_and_goes_on(
        shop, unanswered, registry):
    import datetime as dt

    from banter_payments.clock import utcnow
    _order, (broken, second, third) = three_unanswered_refunds(shop)
    unanswered["lost"] = False
    unanswered["broken"] = {broken}
    with Job(registry) as job:
        report = job.find_service(IReconcileService).reconcile_orders(
            now=utcnow() + dt.timedelta(minutes=16))
    assert report.errors == {f"refund:{broken}": "ValueError: the SDK choked on the answer"}
    assert report.to_json()["refundsResumed"] == [{"id": second, "status": "processed"},
                                                  {"id": third, "status": "processed"}]
    assert [r.status for r in shop.rows()] == ["pending", "processed", "processed"]
