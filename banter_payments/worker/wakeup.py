"""Waking the workers of this process when work arrives, instead of at their next poll.

A job registered with ``wake_on="channel"`` runs at once when ``notify(registry,
"channel")`` is called in this process (the webhook route calls it after its transaction
commits), and, on PostgreSQL, when any process sends ``NOTIFY channel`` (the webhook
route does, inside its transaction, so the notification is delivered only if the event
committed). A worker listens on a connection of its own (``banter_payments.db.listen``)
and falls back to polling at the job's interval whenever that connection is down, so a
lost notification only costs one interval, never the event.
"""

from __future__ import annotations

import logging
import threading
import weakref
from collections.abc import Iterable
from typing import Any

log = logging.getLogger(__name__)

WORKERS_KEY = "banter_payments.worker_wakeups"


class Wakeup:
    """One worker's doorbell: the channels rung since it last looked."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._rung: set[str] = set()
        self.event = threading.Event()

    def ring(self, channel: str) -> None:
        with self._lock:
            self._rung.add(channel)
        self.event.set()

    def wait(self, timeout: float) -> set[str]:
        """Wait up to ``timeout`` seconds for a ring; the channels rung (maybe none)."""
        self.event.wait(timeout)
        with self._lock:
            self.event.clear()
            rung, self._rung = self._rung, set()
        return rung


def subscribe(registry: Any, wakeup: Wakeup) -> None:
    """Let ``notify`` on this registry ring ``wakeup`` (held weakly: a worker that is
    gone stops being rung)."""
    workers = registry.get(WORKERS_KEY)
    if workers is None:
        workers = registry[WORKERS_KEY] = weakref.WeakSet()
    workers.add(wakeup)


def notify(registry: Any, channel: str) -> None:
    """Ring every worker of this process running on ``registry`` (none: a no-op)."""
    for wakeup in list(registry.get(WORKERS_KEY, ())):
        wakeup.ring(channel)


def listen_in_thread(engine: Any, channels: Iterable[str], wakeup: Wakeup,
                     stop: threading.Event,
                     listening: threading.Event | None = None) -> threading.Thread | None:
    """On PostgreSQL, a daemon thread that LISTENs on ``channels`` and rings
    ``wakeup`` (and sets ``listening`` once it listens); None on a database without
    notifications (the worker polls)."""
    from ..db import listen, supports_listen

    channels = sorted(set(channels))
    if not channels or not supports_listen(engine):
        return None

    def run() -> None:
        listen(engine, channels, wakeup.ring, stop,
               on_listening=listening.set if listening is not None else None)

    thread = threading.Thread(target=run, name="banter-worker-listen", daemon=True)
    thread.start()
    return thread
