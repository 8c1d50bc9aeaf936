"""``config.add_worker_job``: the background jobs the worker runtime runs.

A job is a function ``run(context) -> int`` run every ``interval`` seconds; it returns how
much work it did, and a ``drain`` job (like the outbox's delivery) runs again at once while
that is more than zero. A job with ``wake_on="channel"`` also runs at once when that
channel is rung (``banter_payments.worker.wakeup``): the webhook inbox is woken by each
event it queues instead of waiting for its interval. A job must be safe to run in several
workers at once (claim rows with ``FOR UPDATE SKIP LOCKED`` and a lease) and should look
at ``context.stopping`` between items, so that SIGTERM finishes what is in hand and
nothing more.

Names are unique: two registrations of one name are a ``ConfigurationConflictError`` at
start-up, not one silently winning.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

JOBS_KEY = "banter_payments.worker_jobs"


@dataclass
class JobContext:
    """What a job runs with: the app's registry, the worker's name, its stop signal, and
    a place to keep objects between runs (built once per worker)."""

    registry: Any
    worker: str
    stop: threading.Event
    state: dict[str, Any] = field(default_factory=dict)

    @property
    def stopping(self) -> bool:
        return self.stop.is_set()


@dataclass(frozen=True)
class Job:
    name: str
    run: Callable[[JobContext], int]
    interval: float
    drain: bool = False
    wake_on: str | None = None


def add_worker_job(config, name: str, run: Callable[[JobContext], int], *,
                   interval: float, drain: bool = False, wake_on: str | None = None) -> None:
    if interval <= 0:
        raise ValueError(f"worker job {name}: interval must be positive")
    job = Job(name=name, run=config.maybe_dotted(run), interval=float(interval), drain=drain,
              wake_on=wake_on)

    def register():
        config.registry.setdefault(JOBS_KEY, {})[name] = job

    config.action(("banter_payments.worker_job", name), register)


def registered_jobs(registry) -> dict[str, Job]:
    return dict(registry.get(JOBS_KEY, {}))
