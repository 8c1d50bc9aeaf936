"""Facts other code reacts to, in two deliveries.

``EventSink.emit(event)`` notifies subscribers of the event's class at once, inside the
current transaction (for validation and database work that must commit or roll back with
it), and, only if that transaction commits, notifies ``Committed(event)`` (for mail, push
and outbound HTTP, which must never announce something that was rolled back). Services
get their sink when they are built, from a request or from a job alike.

Subscribe to the after-commit delivery with the ``for_event`` predicate::

    config.add_subscriber(send_receipt, Committed, for_event=OrderPaid)

Plugins announce their own facts the same way: a frozen dataclass subclassing
``PaymentsEvent`` in the plugin's own ``events.py``, passed to ``emit``. Nothing is
registered: Pyramid dispatches on the class, so the core needs no list of the plugins'
events.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from typing import Any

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class PaymentsEvent:
    """Base of every event; ``request`` is what the service that emitted it was built from:
    the request it happened in, or the ``Job`` (both have ``registry``, ``dbsession`` and
    ``find_service``)."""

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


class EventSink:
    """Where business code announces what happened: at once to in-transaction
    subscribers, and after commit (``Committed(event)``) to the others.

    It is bound to a registry and a transaction manager, not to a request, so a job
    (``banter_payments.jobs.Job``) announces exactly as a request does: build it from
    anything with ``registry`` and ``tm`` (a request, a job). Events are queued on the
    manager's *current* transaction, one list and one after-commit hook per transaction,
    so a job that commits many times announces each transaction's events only when that
    transaction commits, and nothing of one that aborted.
    """

    def __init__(self, source: Any):
        self.source = source
        self.registry = source.registry
        self.tm = source.tm

    def _pending(self) -> list[PaymentsEvent]:
        txn = self.tm.get()
        try:
            return txn.data(_PendingEvents)
        except KeyError:
            pending: list[PaymentsEvent] = []
            txn.set_data(_PendingEvents, pending)
            txn.addAfterCommitHook(_announce, args=(self.registry, pending))
            return pending

    def emit(self, event: PaymentsEvent) -> None:
        self.registry.notify(event)
        self._pending().append(event)

    def mark(self) -> int:
        """Where the after-commit announcements stand; take it when a savepoint begins."""
        return len(self._pending())

    def pending_since(self, mark: int) -> list[PaymentsEvent]:
        """What was emitted since ``mark``, for a log line of what a delivery did."""
        return list(self._pending()[mark:])

    def discard_since(self, mark: int) -> None:
        """The savepoint taken at ``mark`` rolled back: what was emitted inside it did
        not happen, so it is not announced when the rest of the transaction commits."""
        del self._pending()[mark:]


def _announce(success: bool, registry, pending: list[PaymentsEvent]) -> None:
    if not success:
        return
    for event in pending:
        try:
            registry.notify(Committed(event))
        except Exception:  # an after-commit side effect must not hide the commit
            log.exception("after-commit subscriber failed for %s", type(event).__name__)


def emit(request: Any, event: PaymentsEvent) -> None:
    """``EventSink(request).emit(event)``, for code that holds a request (a plugin view)."""
    EventSink(request).emit(event)


def includeme(config) -> None:
    config.add_subscriber_predicate("for_event", ForEventPredicate)
