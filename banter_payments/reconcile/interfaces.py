"""What the rest of the code may ask of reconciliation."""

from __future__ import annotations

from zope.interface import Interface


class IReconcileService(Interface):
    """Open orders checked against the gateway; build it on a ``Job`` (it commits once
    per order, so its transaction manager must be idle)."""

    def reconcile_orders(*, now=None, batch_size=200, max_batches=None, worker=None):
        """Reconcile every open order older than ``orders.reconcile_after_seconds``;
        a ``ReconcileReport``."""
