"""A job builds the same services as a request, with no request, and announces its
events after each of its transactions commits, never after one that aborted."""

from __future__ import annotations

import pytest

from banter_payments.events import Committed, EventSink, OrderPaid
from banter_payments.jobs import Job
from banter_payments.ledger.interfaces import ILedgerService
from banter_payments.ledger.services import LedgerService
from banter_payments.payments.interfaces import IPaymentService
from banter_payments.payments.services import PaymentService


@pytest.fixture
def seen(registry) -> list:
    """(delivery, order id) for every OrderPaid: "now" in the transaction, "after" its
    commit."""
    seen: list = []
    registry.registerHandler(lambda e: seen.append(("now", e.order)), (OrderPaid,))
    registry.registerHandler(
        lambda c: seen.append(("after", c.event.order)) if isinstance(c.event, OrderPaid)
        else None, (Committed,))
    return seen


def test_a_job_builds_registered_services_on_its_own_session(registry):
    with Job(registry) as job:
        payments = job.find_service(IPaymentService)
        assert isinstance(payments, PaymentService)
        assert payments.session is job.dbsession
        assert job.find_service(IPaymentService) is payments  # built once per job
        assert isinstance(payments.ledger, LedgerService)
        assert payments.ledger is job.find_service(ILedgerService)
        assert payments.events.source is job


def test_events_of_a_committed_job_transaction_are_announced_after_commit(registry, seen):
    with Job(registry) as job:
        sink = EventSink(job)
        with job.tm:
            sink.emit(OrderPaid(job, "ord_1"))
            assert seen == [("now", "ord_1")]
        assert seen == [("now", "ord_1"), ("after", "ord_1")]


def test_an_aborted_job_transaction_announces_nothing_after(registry, seen):
    with Job(registry) as job:
        sink = EventSink(job)
        with pytest.raises(RuntimeError), job.tm:
            sink.emit(OrderPaid(job, "ord_1"))
            raise RuntimeError("rolled back")
        with job.tm:
            sink.emit(OrderPaid(job, "ord_2"))
    assert seen == [("now", "ord_1"), ("now", "ord_2"), ("after", "ord_2")]


def test_what_a_rolled_back_savepoint_emitted_is_not_announced(registry, seen):
    with Job(registry) as job:
        sink = EventSink(job)
        with job.tm:
            sink.emit(OrderPaid(job, "kept"))
            mark = sink.mark()
            sink.emit(OrderPaid(job, "undone"))
            sink.discard_since(mark)
    assert [order for when, order in seen if when == "after"] == ["kept"]
