"""``POST /verify``: the client's door into the state machine."""

from __future__ import annotations

from pyramid.view import view_config

from ..errors import NotFound, SignatureInvalid, api_error_view
from ..gateway.interfaces import IPaymentGateway
from ..orders import services as order_services
from ..orders.models import Order
from .interfaces import IPaymentService
from .services import PaymentMismatch


@view_config(route_name="payments.verify", request_method="POST", renderer="json",
             permission="user")
def verify(request):
    """Check Checkout's signature, then trust only what the gateway itself says.

    The signature proves the client saw this payment for this order; it says nothing
    about whether money moved. So the payment is fetched from the gateway and goes
    through the same state machine as a webhook would.
    """
    body = request.validated_body
    razorpay_order_id = body["razorpay_order_id"] or body["razorpayOrderId"]
    razorpay_payment_id = body["razorpay_payment_id"] or body["razorpayPaymentId"]
    signature = body["razorpay_signature"] or body["razorpaySignature"]

    # Looked up on a short read of its own: the request's writer transaction (on SQLite,
    # the database's write lock) begins only after the gateway has answered.
    found = order_services.peek_order(request, razorpay_order_id)
    if found is None or not order_services.can_see(request.identity, found):
        raise NotFound("No such order.")
    gateway = request.find_service(IPaymentGateway)
    if not gateway.verify_payment_signature(razorpay_order_id, razorpay_payment_id, signature):
        raise SignatureInvalid("The checkout signature does not match this order and payment.")
    payment = gateway.fetch_payment(razorpay_payment_id)
    order = request.dbsession.get(Order, found.id)
    payments = request.find_service(IPaymentService)
    try:
        order = payments.apply_gateway_payment(order, payment, source="verify")
    except PaymentMismatch as exc:
        # Returned, not raised, so the note the state machine wrote on the order for an
        # operator commits with this request.
        return api_error_view(exc, request)
    if order.status != "paid":
        order = payments.mark_verified(order)
    return order_services.order_to_json(request, order)
