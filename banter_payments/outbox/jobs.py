"""The outbox's worker jobs: delivery (drained while messages are due) and retention."""

from __future__ import annotations

import datetime as dt

from ..clock import utcnow
from ..worker.jobs import JobContext
from .delivery import DeliveryPolicy, OutboxDeliverer
from .directives import channels
from .interfaces import IOutbox
from .services import delete_delivered

CLEANUP_CHUNK = 1000


def deliverer_for(registry, worker: str) -> OutboxDeliverer:
    writer, _reader = registry["banter_payments.session_factories"]
    return OutboxDeliverer(writer, endpoints=registry.getUtility(IOutbox).endpoints,
                           channels=channels(registry),
                           policy=DeliveryPolicy.from_settings(registry.settings),
                           worker=worker)


def deliver_outbox(context: JobContext) -> int:
    deliverer = context.state.get("outbox.deliverer")
    if deliverer is None:
        deliverer = context.state["outbox.deliverer"] = deliverer_for(context.registry,
                                                                      context.worker)
    report = deliverer.run_batch(stopping=lambda: context.stopping)
    return report.delivered + report.failed


def clean_outbox(context: JobContext, *, now: dt.datetime | None = None) -> int:
    """Delete messages delivered more than ``outbox.retention_days`` ago."""
    registry = context.registry
    older_than = (now or utcnow()) - dt.timedelta(days=registry.settings["outbox.retention_days"])
    writer, _reader = registry["banter_payments.session_factories"]
    total = 0
    while not context.stopping:
        with writer() as session, session.begin():
            count = delete_delivered(session, older_than=older_than, limit=CLEANUP_CHUNK)
        total += count
        if count < CLEANUP_CHUNK:
            break
    return total
