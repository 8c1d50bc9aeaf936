"""Facts other code reacts to, in two deliveries.

``emit(request, event)`` notifies subscribers of the event's class at once, inside the
request's transaction (for validation and database work that must commit or roll back
with it), and, only if that transaction commits, notifies ``Committed(event)`` (for mail,
push and outbound HTTP, which must never announce something that was rolled back).

Subscribe to the after-commit delivery with the ``for_event`` predicate::

    config.add_subscriber(send_receipt, Committed, for_event=OrderPaid)
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from typing import Any

from pyramid.request import Request

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class PaymentsEvent:
    """Base of every event; ``request`` is the request it happened in (or a job's)."""

    request: Any


@dataclass(frozen=True)
class OrderPaid(PaymentsEvent):
    order: Any


@dataclass(frozen=True)
class PaymentFailed(PaymentsEvent):
    order: Any
    payment: Any


@dataclass(frozen=True)
class RefundProcessed(PaymentsEvent):
    refund: Any


@dataclass(frozen=True)
class RefundFailed(PaymentsEvent):
    refund: Any


@dataclass(frozen=True)
class GiftSent(PaymentsEvent):
    gift: Any


@dataclass(frozen=True)
class Committed:
    """Delivered after the transaction in which ``event`` happened has committed."""

    event: PaymentsEvent


class ForEventPredicate:
    def __init__(self, value, config):
        self.value = value

    def text(self):
        return f"for_event = {self.value.__name__}"

    phash = text

    def __call__(self, committed: Committed) -> bool:
        return isinstance(committed.event, self.value)


class _PendingEvents:
    """Key of the transaction's list of events waiting for its commit."""


def _pending(request: Request) -> list[PaymentsEvent]:
    """The events of the request's current transaction that ``Committed`` will announce.

    One list (and one after-commit hook) per transaction, not per request: a job request
    runs many transactions one after another.
    """
    txn = request.tm.get()
    try:
        return txn.data(_PendingEvents)
    except KeyError:
        pending: list[PaymentsEvent] = []
        txn.set_data(_PendingEvents, pending)
        txn.addAfterCommitHook(_announce, args=(request.registry, pending))
        return pending


def _announce(success: bool, registry, pending: list[PaymentsEvent]) -> None:
    if not success:
        return
    for event in pending:
        try:
            registry.notify(Committed(event))
        except Exception:  # an after-commit side effect must not hide the commit
            log.exception("after-commit subscriber failed for %s", type(event).__name__)


def emit(request: Request, event: PaymentsEvent) -> None:
    request.registry.notify(event)
    _pending(request).append(event)


def savepoint_mark(request: Request) -> int:
    """Where the after-commit announcements stand; take it when a savepoint begins."""
    return len(_pending(request))


def pending_since(request: Request, mark: int) -> list[PaymentsEvent]:
    """What was emitted since ``mark`` (``savepoint_mark``), for a log line."""
    return list(_pending(request)[mark:])


def discard_since(request: Request, mark: int) -> None:
    """The savepoint taken at ``mark`` rolled back: what was emitted inside it did not
    happen, so it must not be announced when the rest of the transaction commits."""
    del _pending(request)[mark:]


def includeme(config) -> None:
    config.add_subscriber_predicate("for_event", ForEventPredicate)
