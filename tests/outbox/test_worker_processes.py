"""``banter-worker`` processes: SIGTERM stops cleanly, and ``kill -9`` of one of four
workers on PostgreSQL loses nothing and delivers twice only what it had in flight."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from collections import Counter

import pytest
import sqlalchemy as sa

LOGGING = """
[loggers]
keys = root

[handlers]
keys = console

[formatters]
keys = generic

[logger_root]
level = INFO
handlers = console

[handler_console]
class = StreamHandler
args = (sys.stderr,)
level = NOTSET
formatter = generic

[formatter_generic]
format = %(levelname)s [%(name)s] %(message)s
"""


@pytest.fixture
def worker_ini(settings, kit, tmp_path):
    def write(**overrides) -> str:
        path = tmp_path / "worker.ini"
        kit.write_ini(path, {**settings, **overrides})
        path.write_text(path.read_text() + LOGGING)
        return str(path)

    return write


def start_worker(ini: str) -> subprocess.Popen:
    return subprocess.Popen([sys.executable, "-m", "banter_payments.scripts.worker", ini],
                            env=dict(os.environ), stderr=subprocess.PIPE, text=True)


def wait_for(condition, timeout: float) -> bool:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if condition():
            return True
        time.sleep(0.1)
    return condition()


def test_sigterm_finishes_the_message_in_hand_and_releases_the_rest(pay, receiver,
                                                                   worker_ini, messages):
    receiver.delay = 0.7
    for _ in range(5):
        pay()
    worker = start_worker(worker_ini(**{"outbox.timeout_seconds": "3"}))
    try:
        assert receiver.first_request.wait(30)
        worker.send_signal(signal.SIGTERM)
        assert worker.wait(timeout=20) == 0
    finally:
        if worker.poll() is None:
            worker.kill()
    log = worker.stderr.read()
    assert "SIGTERM received" in log
    assert "stopped" in log
    rows = messages()
    assert sorted(m["status"] for m in rows) == ["delivered"] + ["pending"] * 4
    assert all(m["claimed_until"] is None and m["attempts"] == 0
               for m in rows if m["status"] == "pending")
    assert len(receiver.requests) == 1


@pytest.mark.server_database
def test_kill_9_of_one_of_four_workers_loses_nothing(pay, receiver, worker_ini, messages,
                                                     engine):
    count = 160
    receiver.delay = 0.01
    for _ in range(count):
        pay()
    events = {m["event_id"] for m in messages()}
    ini = worker_ini(**{"outbox.batch_size": "8", "outbox.timeout_seconds": "0.5",
                        "worker.poll_interval_seconds": "0.1"})
    workers = [start_worker(ini) for _ in range(4)]
    try:
        assert wait_for(lambda: len(receiver.requests) >= 40, 60)

        def claimed_by(pid: int) -> set[str]:
            with engine.connect() as conn:
                return set(conn.execute(sa.text(
                    "SELECT event_id FROM outbox_messages WHERE status = 'pending' "
                    "AND claimed_by LIKE :mine"), {"mine": f"%:{pid}:%"}).scalars())

        # Kill a worker in the middle of a batch: one holding several claimed messages.
        victim, deadline = None, time.monotonic() + 30
        while victim is None and time.monotonic() < deadline:
            victim = next((w for w in workers if len(claimed_by(w.pid)) >= 3), None)
        assert victim is not None
        victim.send_signal(signal.SIGKILL)
        victim.wait(10)
        in_flight = claimed_by(victim.pid)
        assert in_flight  # killed in the middle of a batch
        assert wait_for(lambda: {m["status"] for m in messages()} == {"delivered"}, 120)
        survivors = [w for w in workers if w is not victim]
        for worker in survivors:
            worker.send_signal(signal.SIGTERM)
        assert [worker.wait(20) for worker in survivors] == [0, 0, 0]
    finally:
        for worker in workers:
            if worker.poll() is None:
                worker.kill()
    received = Counter(receiver.ids_received())
    assert set(received) == events  # nothing lost
    twice = {event for event, n in received.items() if n > 1}
    assert twice <= in_flight  # only what the killed worker had in flight
    assert set(receiver.applied) == events
