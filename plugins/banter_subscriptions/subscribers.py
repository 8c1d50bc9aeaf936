"""What subscriptions do when the core announces a fact."""

from __future__ import annotations

from banter_payments.events import RefundProcessed

from .interfaces import ISubscriptionService


def end_refunded_cycle(event: RefundProcessed) -> None:
    """A full refund of a charge takes back the cycle it paid for (in the refund's own
    transaction); refunds of anything else are not the plugin's."""
    event.request.find_service(ISubscriptionService).refund_processed(event.refund)
