"""What the rest of the code may ask of the wallet's entitlements."""

from __future__ import annotations

from zope.interface import Attribute, Interface


class IWalletService(Interface):
    """Entitlement grants (premium, badges) in a session: what fulfilment and
    subscriptions call, in the same transaction as the ledger's grants."""

    session = Attribute("The SQLAlchemy session it writes in.")

    def grant_entitlement(user_id, name, source, expires_at=None):
        """Grant ``name`` from ``source``; idempotent per (user, name, source)."""

    def revoke_entitlement(user_id, name, source=None, at=None):
        """End ``name`` (from ``source``, or every grant); how many grants it ended."""

    def active_entitlements(user_id, now=None):
        """``{name: {"grantedAt", "expiresAt"}}`` of the rights active now."""
