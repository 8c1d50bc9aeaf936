"""What the rest of the code may ask of the payment state machine."""

from __future__ import annotations

from zope.interface import Attribute, Interface


class IPaymentService(Interface):
    """The one state machine every door (verify, webhook, reconcile) feeds."""

    session = Attribute("The SQLAlchemy session it writes in.")

    def apply_gateway_payment(order, payment_entity, *, source, now=None):
        """Feed one trusted payment entity for ``order`` into the state machine; the
        order as it now stands. Raises ``PaymentMismatch`` or ``MalformedPaymentEntity``."""

    def capture_if_ours(order, payment_entity):
        """The entity to apply, captured first when capture is ours to do; call it
        outside any transaction."""

    def fulfil_order(order, *, now=None):
        """Deliver what ``order`` bought (only the winner of the move to paid calls it)."""

    def mark_verified(order, *, now=None):
        """``created``/``attempted`` -> ``verified``; the order."""

    def find_order(razorpay_order_id):
        """Our order for a Razorpay order id, or None."""
