"""Webhooks of subscriptions: every ``subscription.*`` event and the ``invoice.paid`` of
their cycles, applied through the one state machine (``services.apply_event``)."""

from __future__ import annotations

from typing import Any

from .interfaces import ISubscriptionService

EVENTS = (
    "subscription.authenticated", "subscription.activated", "subscription.charged",
    "subscription.pending", "subscription.halted", "subscription.cancelled",
    "subscription.completed", "subscription.paused", "subscription.resumed",
    "subscription.updated", "invoice.paid",
)


def apply_subscription_event(request, event: dict[str, Any], delivery: Any) -> None:
    """Raises ``IgnoreEvent`` for a subscription we never created (recorded, 200)."""
    request.find_service(ISubscriptionService).apply_event(event)
