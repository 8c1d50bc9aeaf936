"""The order routes of API.md: create, list, show, verify, retry."""

from __future__ import annotations

from pyramid.view import view_config

from ..errors import NotFound, SignatureInvalid, api_error_view
from ..gateway.interfaces import IPaymentGateway
from ..payments.service import PaymentMismatch, apply_gateway_payment, mark_verified
from . import services
from .models import Order


@view_config(route_name="payments.orders.create", request_method="POST", renderer="json",
             permission="user")
def create_order(request):
    body = request.validated_body
    if request.identity.is_service:
        order = services.create_service_order(request, request.identity, body)
    else:
        order = services.create_catalog_order(request, request.identity, body["sku"])
    request.response.status = 201
    return services.order_to_json(request, order, checkout=True)


@view_config(route_name="payments.orders.list", request_method="GET", renderer="json",
             permission="user")
def list_orders(request):
    query = request.validated_query
    user_id = request.identity.user_id
    if query["userId"] is not None and query["userId"] != user_id:
        if not request.identity.is_admin:
            raise NotFound("No such user.")
        user_id = query["userId"]
    orders, next_cursor = services.list_orders(
        request.dbsession, user_id=user_id, limit=query["limit"], cursor=query["cursor"]
    )
    return {"items": [services.order_to_json(request, o) for o in orders],
            "nextCursor": next_cursor}


@view_config(route_name="payments.orders.show", request_method="GET", renderer="json",
             permission="user")
def show_order(request):
    order = services.get_visible_order(request, request.matchdict["order_id"])
    return services.order_to_json(request, order)


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
    found = services.peek_order(request, razorpay_order_id)
    if found is None or not services.can_see(request.identity, found):
        raise NotFound("No such order.")
    gateway = request.find_service(IPaymentGateway)
    if not gateway.verify_payment_signature(razorpay_order_id, razorpay_payment_id, signature):
        raise SignatureInvalid("The checkout signature does not match this order and payment.")
    payment = gateway.fetch_payment(razorpay_payment_id)
    order = request.dbsession.get(Order, found.id)
    try:
        order = apply_gateway_payment(request, order, payment, source="verify")
    except PaymentMismatch as exc:
        # Returned, not raised, so the note the state machine wrote on the order for an
        # operator commits with this request.
        return api_error_view(exc, request)
    if order.status != "paid":
        order = mark_verified(request, order)
    return services.order_to_json(request, order)


@view_config(route_name="payments.orders.retry", request_method="POST", renderer="json",
             permission="user")
def retry(request):
    order = services.get_visible_order(request, request.matchdict["order_id"])
    if order.user_id != request.identity.user_id and order.created_by != request.identity.user_id:
        raise NotFound("No such order.")
    if request.body:
        request.validated_body  # noqa: B018 - only an empty object is accepted
    new_order = services.retry_order(request, request.identity, order)
    request.response.status = 201
    return services.order_to_json(request, new_order, checkout=True)
