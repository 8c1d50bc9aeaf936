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
class SubscriptionChanged(PaymentsEvent):
    subscription: Any
    change: str  # charged | halted | cancelled | ...


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


def emit(request: Request, event: PaymentsEvent) -> None:
    registry = request.registry
    registry.notify(event)

    def after_commit(success: bool) -> None:
        if not success:
            return
        try:
            registry.notify(Committed(event))
        except Exception:  # an after-commit side effect must not hide the commit
            log.exception("after-commit subscriber failed for %s", type(event).__name__)

    request.tm.get().addAfterCommitHook(after_commit)


def includeme(config) -> None:
    config.add_subscriber_predicate("for_event", ForEventPredicate)
