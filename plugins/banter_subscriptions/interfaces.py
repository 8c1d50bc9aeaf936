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

    def pause(user_id, subscription_id):
        """Pause an active subscription (idempotent); the paid cycle stays paid."""

    def resume(user_id, subscription_id):
        """Resume a paused subscription (idempotent)."""

    def apply_event(event):
        """Apply a signed ``subscription.*`` / ``invoice.paid`` webhook envelope."""

    def entitlement(user_id, name="premium", now=None):
        """``{"active", "until", "source", "plan"}``: what the host may trust."""

    def is_premium(user_id, now=None):
        """True while the user's paid premium (plus grace) lasts."""

    def get_any(subscription_id):
        """Anyone's subscription (admins); ``NotFound`` when there is none."""

    def claim_due(now, limit=20):
        """Claim subscriptions for the check job: ``[(id, Razorpay id, charges)]``."""

    def apply_check(subscription_id, remote, invoices, now):
        """Apply the gateway's entity (and paid invoices); (changed, lapsed)."""

    def charge_order(session, subscription_id, charge_id, admin_id):
        """The core order id standing for a charge, made in ``session`` if needed."""

    def refund_processed(refund, now=None):
        """A processed refund of a charge's order; a full one takes its cycle back."""

    def admin_list(status, limit, cursor):
        """Every subscription, newest first; (page, next cursor)."""

    def charges(subscription_id):
        """The charges of one subscription, oldest cycle first."""
