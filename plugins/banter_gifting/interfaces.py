"""What a host app (or another feature) may ask of gifting."""

from __future__ import annotations

from zope.interface import Interface


class IGiftService(Interface):
    """Coin gifts between users, within the plugin's limits."""

    def send(sender_id, recipient_id, coins, note, now=None):
        """Move ``coins`` from sender to recipient and announce ``GiftSent``;
        ``(gift, the sender's new balance)``. Raises ``RateLimited`` past the daily
        cap and ``InsufficientFunds`` past the balance; either way nothing is written."""
