"""Payments: the state machine (``services``, over the tables of ``transitions``), the
verify route, and the core's webhook handlers that feed it (``handlers``)."""

from ..orders.responses import ORDER, ORDER_ERRORS
from .interfaces import IPaymentService
from .schemas import VerifyBody
from .services import payment_service_factory


def includeme(config):
    config.register_service_factory(payment_service_factory, IPaymentService)
    config.add_route("payments.verify", "/verify")
    config.add_api_operation(
        "payments.verify", "POST", tag="orders", permission="user", body=VerifyBody,
        summary="Verify Razorpay Checkout's signature and confirm the payment with Razorpay",
        responses={200: "Order", **ORDER_ERRORS, 409: "conflict: payment does not match",
                   400: "validation_failed or signature_invalid"},
        response_schema=ORDER,
    )
    # The add_webhook_handler directive, which the core's own handlers use like a plugin.
    config.include("banter_payments.webhooks.registry")
    config.include(".handlers")
    config.scan(".views")
