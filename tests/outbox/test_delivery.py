"""Claiming, backoff, dead letters, the circuit breaker, ordering and leases."""

from __future__ import annotations

import dataclasses
import datetime as dt
import random

import pytest

from banter_payments.clock import utcnow
from banter_payments.outbox.delivery import DeliveryPolicy, OutboxDeliverer


class Clock:
    """A minute ahead of real time, so that messages written during the test are due."""

    def __init__(self) -> None:
        self.now = utcnow() + dt.timedelta(minutes=1)

    def __call__(self) -> dt.datetime:
        return self.now

    def advance(self, seconds: float) -> None:
        self.now += dt.timedelta(seconds=seconds)


@pytest.fixture
def clock():
    return Clock()


@pytest.fixture
def make_deliverer(deliverer, clock):
    """A deliverer like the job's, with another policy or worker name and a fake clock."""

    def make(worker: str = "test-worker", **policy):
        return OutboxDeliverer(
            deliverer.factory, endpoints=deliverer.endpoints, channels=deliverer.channels,
            policy=dataclasses.replace(deliverer.policy, **policy), worker=worker,
            rng=random.Random(1), clock=clock)

    return make


def test_backoff_is_exponential_with_jitter_and_capped():
    policy = DeliveryPolicy(retry_base=2.0, retry_max=60.0)
    rng = random.Random(3)
    for attempts, full in [(1, 2.0), (2, 4.0), (3, 8.0), (10, 60.0)]:
        delays = {policy.backoff(attempts, rng).total_seconds() for _ in range(50)}
        assert all(full / 2 <= d <= full for d in delays)
        assert len(delays) > 1


def test_a_failing_receiver_is_retried_with_backoff_then_dead(pay, receiver, make_deliverer,
                                                              clock, messages):
    receiver.status = 500
    receiver.answer = b"x" * 10_000
    pay()
    worker = make_deliverer(max_attempts=3, circuit_failures=100)

    assert worker.run_batch().failed == 1
    [message] = messages()
    assert message["attempts"] == 1 and message["status"] == "pending"
    delay = (message["next_attempt_at"] - clock.now).total_seconds()
    assert 0.025 <= delay <= 0.05
    assert message["last_error"].startswith("HTTP 500: xxx")
    assert len(message["last_error"]) < 400  # a bounded excerpt, not the whole body
    assert worker.run_batch().claimed == 0  # not due yet

    clock.advance(1)
    worker.run_batch()
    clock.advance(1)
    report = worker.run_batch()
    assert report.dead == 1
    [message] = messages()
    assert message["status"] == "dead" and message["attempts"] == 3
    clock.advance(3600)
    assert worker.run_batch().claimed == 0
    assert len(receiver.requests) == 3


def test_an_endpoint_that_keeps_failing_is_backed_off_as_a_whole(pay, receiver,
                                                                 make_deliverer, clock,
                                                                 messages):
    receiver.status = 503
    for _ in range(8):
        pay()
    worker = make_deliverer(circuit_failures=3, circuit_cooldown=10.0)

    report = worker.run_batch()
    assert report.failed == 3 and report.released == 5
    assert len(receiver.requests) == 3  # not hammered with the whole batch
    clock.advance(5)  # every message is due again, but the circuit is open
    assert worker.run_batch().claimed == 0
    assert all(m["claimed_until"] is None for m in messages())
    assert sorted(m["attempts"] for m in messages()) == [0] * 5 + [1] * 3

    clock.advance(6)  # half-open: one probe
    receiver.status = 200
    report = worker.run_batch()
    assert report.claimed == 1 and report.delivered == 1
    # closed again: everything else goes
    report = worker.run_batch()
    assert report.delivered == 7
    assert {m["status"] for m in messages()} == {"delivered"}


def test_a_failed_probe_keeps_the_circuit_open_longer(pay, receiver, make_deliverer, clock):
    receiver.status = 503
    for _ in range(3):
        pay()
    worker = make_deliverer(circuit_failures=2, circuit_cooldown=10.0, retry_max=100.0)
    worker.run_batch()
    clock.advance(11)
    assert worker.run_batch().claimed == 1  # the probe fails
    clock.advance(11)
    assert worker.run_batch().claimed == 0  # 20 s now
    clock.advance(10)
    assert worker.run_batch().claimed == 1


def test_an_aggregate_is_delivered_in_sequence_order(pay, run, registry, make_deliverer,
                                                     receiver, clock, messages):
    from banter_payments.outbox.interfaces import IOutbox

    order = pay()
    outbox = registry.getUtility(IOutbox)
    run(lambda request: outbox.publish(request.dbsession, "refund.processed",
                                       aggregate_type="order", aggregate_id=order.id,
                                       data={"orderId": order.id}))
    receiver.status = 500
    worker = make_deliverer(circuit_failures=100)
    report = worker.run_batch()
    assert report.claimed == 1  # the refund waits for the order.paid before it
    receiver.status = 200
    clock.advance(5)
    assert worker.run_batch().delivered == 1
    assert worker.run_batch().delivered == 1
    sequences = [int(r["body"].split(b'"sequence":')[1].split(b",")[0])
                 for r in receiver.requests]
    assert sequences == [1, 1, 2]


def test_a_dead_message_does_not_hold_up_its_aggregate(pay, run, registry, make_deliverer,
                                                       receiver, clock, messages):
    from banter_payments.outbox.interfaces import IOutbox

    order = pay()
    receiver.status = 500
    worker = make_deliverer(max_attempts=1, circuit_failures=100)
    assert worker.run_batch().dead == 1
    outbox = registry.getUtility(IOutbox)
    run(lambda request: outbox.publish(request.dbsession, "refund.processed",
                                       aggregate_type="order", aggregate_id=order.id,
                                       data={"orderId": order.id}))
    receiver.status = 200
    assert worker.run_batch().delivered == 1


def test_a_claimed_message_is_leased_to_its_worker_until_the_lease_ends(pay, make_deliverer,
                                                                        clock, messages):
    pay()
    first, second = make_deliverer("one"), make_deliverer("two")
    [claimed] = first.claim()
    assert second.claim() == []
    assert messages()[0]["claimed_by"] == "one"
    clock.now = claimed.claimed_until + dt.timedelta(seconds=1)
    [taken] = second.claim()
    assert taken.id == claimed.id
    assert messages()[0]["claimed_by"] == "two"


def test_a_stopping_worker_releases_what_it_has_not_sent(pay, make_deliverer, receiver,
                                                         messages):
    for _ in range(3):
        pay()
    worker = make_deliverer()
    calls = iter([False, True])
    report = worker.run_batch(stopping=lambda: next(calls, True))
    assert report.delivered == 1 and report.released == 2
    rows = messages()
    assert sorted(m["status"] for m in rows) == ["delivered", "pending", "pending"]
    assert all(m["claimed_until"] is None for m in rows if m["status"] == "pending")
    assert len(receiver.requests) == 1


def test_redirects_are_not_followed(pay, receiver, deliverer, messages):
    receiver.status = 302
    receiver.location = "http://127.0.0.1:1/elsewhere"
    pay()
    assert deliverer.run_batch().failed == 1
    assert messages()[0]["last_error"].startswith("HTTP 302")
    assert len(receiver.requests) == 1


def test_an_unreachable_receiver_is_a_failure_not_a_crash(pay, receiver, deliverer, messages):
    receiver.down()
    pay()
    assert deliverer.run_batch().failed == 1
    assert "ConnectionError" in messages()[0]["last_error"]


def test_a_timeout_is_a_failure(pay, receiver, deliverer, messages):
    receiver.delay = 1.0
    pay()
    assert deliverer.run_batch().failed == 1
    assert messages()[0]["last_error"] == "no answer within 0.5s"


def test_a_message_for_an_endpoint_no_longer_configured_fails(pay, make_deliverer, messages):
    pay()
    worker = make_deliverer()
    worker.endpoints = {}
    assert worker.run_batch().failed == 1
    assert messages()[0]["last_error"] == "endpoint 'jobs' is not configured"


def test_retention_deletes_old_delivered_messages_only(pay, deliverer, registry, engine,
                                                       messages, receiver):
    import threading

    from banter_payments.outbox.jobs import clean_outbox
    from banter_payments.worker.jobs import JobContext

    for _ in range(3):
        pay()
    deliverer.run_batch()
    receiver.status = 500
    pay()
    deliverer.run_batch()
    context = JobContext(registry=registry, worker="t", stop=threading.Event())
    assert clean_outbox(context) == 0
    later = utcnow() + dt.timedelta(days=8)
    assert clean_outbox(context, now=later) == 3
    assert [m["status"] for m in messages()] == ["pending"]
