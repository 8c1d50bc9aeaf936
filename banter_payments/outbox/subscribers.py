"""The core's facts become messages from the *in-transaction* side of ``emit``.

``emit`` notifies an event's subscribers at once, inside the transaction that records the
fact, and ``Committed(event)`` only after it commits. The outbox listens on the first: its
message is one more row of the fact's transaction, so it exists if and only if the fact
committed (a webhook handler's savepoint rolled back discards it with the rest). The
after-commit side would lose the message whenever the process died right after the
commit, which is the gap the outbox exists to close.
"""

from __future__ import annotations

from sqlalchemy.orm import Session

from ..events import PaymentsEvent
from .interfaces import IOutbox
from .topics import CORE_TOPICS


def _session_of(event: PaymentsEvent) -> Session:
    """The session of the fact's transaction (the request's, or a job's)."""
    return event.request.dbsession


def publish_event(event: PaymentsEvent) -> None:
    registry = event.request.registry
    outbox = registry.getUtility(IOutbox)
    topic, read_fact = next(CORE_TOPICS[kind] for kind in type(event).__mro__
                            if kind in CORE_TOPICS)
    if not outbox.receivers(topic):
        return
    fact = read_fact(event)
    outbox.publish(_session_of(event), fact.topic, aggregate_type=fact.aggregate_type,
                   aggregate_id=fact.aggregate_id, data=fact.data,
                   occurred_at=fact.occurred_at)


def includeme(config) -> None:
    for event_type in CORE_TOPICS:
        config.add_subscriber(publish_event, event_type)
