"""What plugins and host apps may ask about orders (read-only)."""

from __future__ import annotations

from zope.interface import Interface


class IOrderQueries(Interface):
    """Questions about a user's orders, so that a plugin never queries core tables."""

    def paid_totals(user_id, sku_prefix):
        """``[(currency, count, amount)]`` over the user's paid orders whose sku starts
        with ``sku_prefix``, net of refunds, by currency (sorted)."""
