"""Refunds of paid orders, with clawback of what they granted (see ``services``)."""

from __future__ import annotations

from .handlers import REFUND_EVENTS, apply_refund_event
from .interfaces import IRefundService
from .schemas import AdminRefundsQuery, RefundBody
from .services import refund_service_factory


def includeme(config) -> None:
    config.register_service_factory(refund_service_factory, IRefundService)
    config.add_route("payments.refunds.create", "/orders/{order_id}/refunds",
                     request_method="POST")
    config.add_route("payments.refunds.list", "/orders/{order_id}/refunds",
                     request_method="GET")
    config.add_api_operation(
        "payments.refunds.create", "POST", tag="refunds", permission="admin",
        summary="Refund all or part of a paid order; claws back what it granted",
        body=RefundBody,
        responses={201: "Refund (status pending, processed, or failed if the gateway "
                        "refused it)",
                   400: "validation_failed", 401: "unauthenticated", 403: "forbidden",
                   404: "not_found",
                   409: "conflict: not paid, more than is left, or (with "
                        "refunds.require_full_clawback) a clawback that cannot be collected",
                   422: "idempotency_key_reused",
                   502: "gateway_error: the outcome is unknown; the refund stays pending "
                        "and a retry with the same Idempotency-Key never refunds twice"},
    )
    config.add_api_operation(
        "payments.refunds.list", "GET", tag="refunds", permission="user",
        summary="The refunds of one order (the buyer's own, or any for an admin)",
        responses={200: "{items: [Refund]}", 401: "unauthenticated", 404: "not_found"},
    )
    config.add_route("payments.admin.refunds.list", "/admin/refunds", request_method="GET")
    config.add_api_operation(
        "payments.admin.refunds.list", "GET", tag="refunds", permission="admin",
        summary="Every refund, newest first; ?shortfall=true for those whose clawback "
                "could not be collected in full",
        query=AdminRefundsQuery,
        responses={200: "{items: [Refund], nextCursor}", 400: "validation_failed",
                   401: "unauthenticated", 403: "forbidden"},
    )
    for event_name in REFUND_EVENTS:
        config.add_webhook_handler(event_name, apply_refund_event)
    config.scan(".views")
