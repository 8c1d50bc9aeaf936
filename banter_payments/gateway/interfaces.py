"""What the project asks of Razorpay, behind one interface.

Everything goes through the official SDK in the implementation
(``banter_payments.gateway.razorpay``); tests and the sandbox use the same code path
with a different base URL or transport. Every method raises
``banter_payments.errors.GatewayError`` (a 502 to clients) when the gateway fails, times
out or answers something unusable; never a raw SDK or ``requests`` exception.
"""

from __future__ import annotations

from zope.interface import Attribute, Interface


class IPaymentGateway(Interface):
    key_id = Attribute("The public key id handed to Razorpay Checkout.")

    def create_order(amount, currency, receipt, notes, payment_capture):
        """Create a Razorpay order; returns the order entity (a dict)."""

    def fetch_order(razorpay_order_id):
        """The order entity."""

    def fetch_order_payments(razorpay_order_id):
        """Every payment attempt of the order (a list of payment entities)."""

    def fetch_payment(razorpay_payment_id):
        """The payment entity."""

    def capture_payment(razorpay_payment_id, amount, currency):
        """Capture an authorized payment; returns the payment entity."""

    def refund_payment(razorpay_payment_id, amount, idempotency_key, notes, receipt):
        """Refund (part of) a captured payment; returns the refund entity. The same
        ``idempotency_key`` never refunds twice."""

    def fetch_refund(razorpay_refund_id):
        """The refund entity."""

    def verify_payment_signature(razorpay_order_id, razorpay_payment_id, signature):
        """True when ``signature`` is Razorpay's checkout signature for the pair."""

    # Subscriptions (Razorpay Subscriptions: plans are immutable, a subscription is
    # charged by Razorpay every cycle and reported by webhooks).

    def create_plan(period, interval, name, amount, currency, notes):
        """Create a Razorpay plan; returns the plan entity (its ``id`` is ``plan_...``)."""

    def fetch_plan(razorpay_plan_id):
        """The plan entity."""

    def create_subscription(razorpay_plan_id, total_count, notes, customer_notify):
        """Create a subscription on a plan; returns the subscription entity."""

    def fetch_subscription(razorpay_subscription_id):
        """The subscription entity, as of now."""

    def fetch_subscription_invoices(razorpay_subscription_id):
        """Every invoice of the subscription (a list of invoice entities): one a cycle,
        with its ``payment_id``, ``billing_start`` and ``billing_end`` once paid."""

    def cancel_subscription(razorpay_subscription_id, at_cycle_end):
        """Cancel at once, or at the end of the current cycle; returns the entity."""

    def pause_subscription(razorpay_subscription_id):
        """Pause an active subscription now (no charges until resumed); the entity."""

    def resume_subscription(razorpay_subscription_id):
        """Resume a paused subscription now; the entity."""

    def verify_subscription_signature(razorpay_subscription_id, razorpay_payment_id,
                                      signature):
        """True when ``signature`` is Checkout's subscription signature:
        HMAC(key_secret, ``payment_id|subscription_id``)."""
