"""What views, webhook handlers, scripts and host apps ask of subscriptions."""

from __future__ import annotations

from zope.interface import Interface


class ISubscriptionService(Interface):
    """Subscriptions of users to plans, kept in step with Razorpay Subscriptions."""

    def subscribe(user_id, plan_id):
        """Create the gateway subscription (and the gateway plan on first use); the new
        ``Subscription``. ``Conflict`` when the user has a live one in the family."""

    def verify(user_id, razorpay_subscription_id, razorpay_payment_id, signature):
        """Check Checkout's signature, then ask the gateway; the ``Subscription``."""

    def cancel(user_id, subscription_id, at_cycle_end):
        """Cancel at once or at the end of the paid cycle (idempotent)."""

    def apply_event(event):
        """Apply a signed ``subscription.*`` / ``invoice.paid`` webhook envelope."""

    def entitlement(user_id, name="premium", now=None):
        """``{"active", "until", "source", "plan"}``: what the host may trust."""

    def is_premium(user_id, now=None):
        """True while the user's paid premium (plus grace) lasts."""

    def check_due(now=None):
        """Ask the gateway about subscriptions whose paid cycle ended; a report."""
