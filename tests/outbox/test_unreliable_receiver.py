"""A receiver that fails 30% of requests, times out on 10%, and is down for a stretch:
once it is back, every message is delivered, none lost, and deduplicating by
``webhook-id`` the receiver applies each fact exactly once."""

from __future__ import annotations

import time

import pytest

from banter_payments.worker.runner import Worker

MESSAGES = 40


@pytest.fixture
def settings(settings):
    settings.update({
        "outbox.timeout_seconds": "0.3",
        "outbox.retry_base_seconds": "0.05",
        "outbox.retry_max_seconds": "0.4",
        "outbox.max_attempts": "200",
        "outbox.batch_size": "10",
        "outbox.circuit_failures": "5",
        "outbox.circuit_cooldown_seconds": "0.3",
        "worker.poll_interval_seconds": "0.05",
    })
    return settings


def wait_for(condition, timeout: float) -> bool:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if condition():
            return True
        time.sleep(0.1)
    return condition()


def test_every_message_is_delivered_and_applied_once(pay, registry, receiver, messages):
    receiver.fail_rate = 0.3
    receiver.timeout_rate = 0.1
    receiver.timeout_sleep = 0.6
    for index in range(MESSAGES):
        pay(sku=None, user_id=None, metadata={"job": index})
    events = {m["event_id"] for m in messages()}
    assert len(events) == MESSAGES

    workers = [Worker(registry, jobs=["outbox.deliver"], name=f"chaos-{n}") for n in (1, 2)]
    for worker in workers:
        worker.start_thread()
    try:
        assert receiver.first_request.wait(10)
        receiver.down()
        down_at = len(receiver.requests)
        time.sleep(1.5)
        receiver.up()
        assert wait_for(lambda: {m["status"] for m in messages()} == {"delivered"}, 90), \
            [(m["status"], m["attempts"], m["last_error"]) for m in messages()
             if m["status"] != "delivered"]
    finally:
        for worker in workers:
            worker.stop_thread()

    assert set(receiver.applied) == events  # none lost
    assert all(count >= 1 for count in receiver.applications.values())
    # Timeouts made the sender send again what had been applied: the dedupe is what
    # kept those facts from being applied twice.
    assert sum(count - 1 for count in receiver.applications.values()) > 0
    assert len(receiver.requests) > MESSAGES
    assert down_at < MESSAGES  # the outage came before everything was through
    assert receiver.rejected == 0
    jobs = sorted(payload["data"]["metadata"]["job"] for payload in receiver.applied.values())
    assert jobs == list(range(MESSAGES))
