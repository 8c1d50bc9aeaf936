"""The webhook inbox as a job of the worker (``webhooks.inbox``).

Drained while it finds events, woken at once by each event queued (in this process by
``InboxQueued``, from other processes by PostgreSQL ``NOTIFY``), and otherwise polling
every ``webhooks.inbox_poll_seconds``. The processing itself is the core's
(``banter_payments.webhooks.inbox``), the same that ``drain`` runs for tests and tools.
"""

from __future__ import annotations

from ..jobs import Job
from ..webhooks.inbox import process_batch
from ..webhooks.services import INBOX_CHANNEL, InboxQueued, RetryPolicy
from .jobs import JobContext
from .wakeup import notify

JOB_NAME = "webhooks.inbox"


def run_inbox(context: JobContext) -> int:
    policy = context.state.get("webhooks.inbox.policy")
    if policy is None:
        policy = context.state["webhooks.inbox.policy"] = RetryPolicy.from_settings(
            context.registry.settings)
    with Job(context.registry) as job:
        return process_batch(job, policy, stopping=lambda: context.stopping)


def _wake(event: InboxQueued) -> None:
    notify(event.registry, INBOX_CHANNEL)


def includeme(config) -> None:
    config.add_worker_job(JOB_NAME, run_inbox, drain=True, wake_on=INBOX_CHANNEL,
                          interval=config.registry.settings["webhooks.inbox_poll_seconds"])
    config.add_subscriber(_wake, InboxQueued)
