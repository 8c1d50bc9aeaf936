"""The webhook inbox as a job of the worker (``webhooks.inbox``).

Drained while it finds events, woken at once by each event queued (in this process by
``InboxQueued``, from other processes by PostgreSQL ``NOTIFY``), and otherwise polling
every ``webhooks.inbox_poll_seconds``. The processing itself is the core's
(``banter_payments.webhooks.inbox``), the same that ``drain`` runs for tests and tools.

An event costs a dozen round trips to the database, so one connection processing events
one after another is bound by latency, not by work: each run claims up to
``webhooks.inbox_threads`` batches at once, each on its own thread, connection and
transaction (``SKIP LOCKED`` keeps them disjoint). SQLite has one writer: one batch.
"""

from __future__ import annotations

import logging
from concurrent.futures import ThreadPoolExecutor

from ..jobs import Job
from ..webhooks.inbox import process_batch
from ..webhooks.services import INBOX_CHANNEL, InboxQueued, RetryPolicy
from .jobs import JobContext
from .wakeup import notify

JOB_NAME = "webhooks.inbox"

log = logging.getLogger(__name__)


def _batch(context: JobContext, policy: RetryPolicy) -> int:
    with Job(context.registry) as job:
        return process_batch(job, policy, stopping=lambda: context.stopping)


def run_inbox(context: JobContext) -> int:
    policy = context.state.get("webhooks.inbox.policy")
    if policy is None:
        policy = context.state["webhooks.inbox.policy"] = RetryPolicy.from_settings(
            context.registry.settings)
    threads = context.registry.settings["webhooks.inbox_threads"]
    engine = context.registry.get("banter_payments.engine")
    if threads <= 1 or engine is None or engine.dialect.name == "sqlite":
        return _batch(context, policy)
    pool = context.state.get("webhooks.inbox.pool")
    if pool is None:
        pool = context.state["webhooks.inbox.pool"] = ThreadPoolExecutor(
            threads, thread_name_prefix="banter-inbox")
    done = 0
    for future in [pool.submit(_batch, context, policy) for _ in range(threads)]:
        try:
            done += future.result()
        except Exception:
            log.exception("an inbox batch failed; its events stay queued")
    return done


def _wake(event: InboxQueued) -> None:
    notify(event.registry, INBOX_CHANNEL)


def includeme(config) -> None:
    config.add_worker_job(JOB_NAME, run_inbox, drain=True, wake_on=INBOX_CHANNEL,
                          interval=config.registry.settings["webhooks.inbox_poll_seconds"])
    config.add_subscriber(_wake, InboxQueued)
