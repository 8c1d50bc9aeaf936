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

TOPICS_KEY = "banter_payments.outbox_topics"


def _session_of(event: PaymentsEvent) -> Session:
    """The session of the fact's transaction (the request's, or a job's)."""
    return event.request.dbsession


def publish_event(event: PaymentsEvent) -> None:
    registry = event.request.registry
    outbox = registry.getUtility(IOutbox)
    topics = registry[TOPICS_KEY]
    topic, read_fact = next(topics[kind] for kind in type(event).__mro__ if kind in topics)
    if not outbox.receivers(topic):
        return
    fact = read_fact(event)
    outbox.publish(_session_of(event), fact.topic, aggregate_type=fact.aggregate_type,
                   aggregate_id=fact.aggregate_id, data=fact.data,
                   occurred_at=fact.occurred_at)


def add_outbox_topic(config, event_type, topic: str, read_fact) -> None:
    """``config.add_outbox_topic(event_type, topic, read_fact)``: a fact that becomes a
    message of ``topic`` when ``event_type`` is emitted; ``read_fact(event)`` returns its
    ``Fact``. One event type per topic: a second registration of either conflicts."""
    event_type = config.maybe_dotted(event_type)
    read_fact = config.maybe_dotted(read_fact)

    def register():
        config.registry.setdefault(TOPICS_KEY, {})[event_type] = (topic, read_fact)

    config.action(("banter_payments.outbox_topic", topic), register)
    config.action(("banter_payments.outbox_topic_event", event_type), None)
    config.add_subscriber(publish_event, event_type)


def includeme(config) -> None:
    config.add_directive("add_outbox_topic", add_outbox_topic)
    for event_type, (topic, read_fact) in CORE_TOPICS.items():
        config.add_outbox_topic(event_type, topic, read_fact)
