"""What the rest of the code may ask of refunds."""

from __future__ import annotations

from zope.interface import Attribute, Interface


class IRefundService(Interface):
    """Refunding an order and recording what the gateway says about refunds."""

    session = Attribute("The SQLAlchemy session it writes in.")

    def create_refund(order_id, *, amount, reason, gateway_key, created_by, notes=None):
        """Reserve, ask the gateway, record its answer; the refund as it now is."""

    def apply_refund_entity(refund, entity):
        """Record a refund entity the gateway sent (API answer or signed webhook)."""

    def mark_processed(refund, *, now=None):
        """pending (or failed) -> processed, once; True for the caller that moved it."""

    def mark_failed(refund, *, failure_reason, now=None):
        """pending -> failed, once; True for the caller that moved it."""

    def resume_pending_refunds(*, now=None, older_than_seconds=900, limit=100):
        """Re-send refunds left pending without a gateway answer; the transaction
        manager must be idle (a job's). ``{"resumed": [...], "errors": {...}}``."""
