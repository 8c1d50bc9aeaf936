"""What the outbox promises to the code around it.

``IOutbox`` is how a fact becomes messages: the core's facts are published by the
outbox's own in-transaction subscribers, and a plugin publishes its own topics the same
way (``registry.getUtility(IOutbox).publish(session, ...)``) inside the transaction of its
fact. A channel is a plain callable ``deliver(message, endpoint)`` registered with
``config.add_outbox_channel(name, deliver)``: it returns a short note on success and
raises ``DeliveryFailed`` otherwise; it is called with no database transaction open.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from typing import Any, Protocol

from zope.interface import Attribute, Interface


class IOutbox(Interface):
    endpoints = Attribute("The configured endpoints, by name")

    def publish(session, topic, *, aggregate_type, aggregate_id, data, occurred_at=None):
        """Write one message per endpoint that wants ``topic``, in ``session``'s
        transaction; return the fact's id, or None when no endpoint wants it."""


@dataclass(frozen=True)
class Fact:
    """What one message says: its topic, the aggregate whose ``sequence`` it takes the
    next number of, when the fact happened, and its versioned ``data``."""

    topic: str
    aggregate_type: str
    aggregate_id: str
    occurred_at: dt.datetime
    data: dict[str, Any]


@dataclass(frozen=True)
class Endpoint:
    """A receiver: where a channel sends the topics it wants."""

    name: str
    channel: str
    target: str
    topics: frozenset[str]
    secret: str | None = None
    options: dict[str, Any] = field(default_factory=dict)

    def wants(self, topic: str) -> bool:
        return topic in self.topics


@dataclass(frozen=True)
class OutboundMessage:
    """A claimed message as a channel sees it (no ORM object crosses the transaction)."""

    id: str
    event_id: str
    topic: str
    endpoint: str
    channel: str
    sequence: int
    payload: dict[str, Any]
    attempts: int
    claimed_until: dt.datetime

    @property
    def envelope(self) -> dict[str, Any]:
        """What the receiver gets: ``{"id", "type", "occurredAt", "sequence", "data"}``."""
        return {"id": self.payload["id"], "type": self.payload["type"],
                "occurredAt": self.payload["occurredAt"], "sequence": self.sequence,
                "data": self.payload["data"]}


class DeliveryFailed(Exception):  # noqa: N818 - an outcome, raised by channels
    """The receiver did not take the message; it is tried again later."""

    def __init__(self, error: str) -> None:
        super().__init__(error)
        self.error = error


class Channel(Protocol):
    def __call__(self, message: OutboundMessage, endpoint: Endpoint) -> str | None: ...
