"""The subscription routes: subscribe, verify Checkout's answer, read, cancel, pause,
resume, the caller's premium; for admins, every subscription and refunds of charges."""

from __future__ import annotations

from typing import Any

from pyramid.request import Request
from pyramid.view import view_config

from banter_payments.clock import isoformat
from banter_payments.gateway.interfaces import IPaymentGateway
from banter_payments.refunds.interfaces import IRefundService
from banter_payments.refunds.services import refunds_to_json
from banter_payments.refunds.views import gateway_key

from .directives import plans
from .interfaces import ISubscriptionService
from .services import subscription_json


def _service(request: Request) -> ISubscriptionService:
    return request.find_service(ISubscriptionService)


@view_config(route_name="payments.subscriptions.create", request_method="POST",
             renderer="json", permission="user")
def subscribe(request: Request) -> dict[str, Any]:
    user_id = request.identity.user_id
    sub = _service(request).subscribe(user_id, request.validated_body["plan"])
    plan = plans(request.registry)[sub.plan]
    request.response.status_int = 201
    # The options object for Razorpay Checkout: no amount, a subscription id.
    checkout = {"key": request.find_service(IPaymentGateway).key_id,
                "subscription_id": sub.razorpay_subscription_id, "name": plan.name,
                "description": plan.description or plan.name,
                "prefill": {}, "notes": {"subscription_id": sub.id}, "recurring": 1}
    return subscription_json(sub, checkout=checkout)


@view_config(route_name="payments.subscriptions.verify", request_method="POST",
             renderer="json", permission="user")
def verify(request: Request) -> dict[str, Any]:
    body = request.validated_body
    sub = _service(request).verify(
        request.identity.user_id,
        body["razorpay_subscription_id"] or body["razorpaySubscriptionId"],
        body["razorpay_payment_id"] or body["razorpayPaymentId"],
        body["razorpay_signature"] or body["razorpaySignature"])
    return subscription_json(sub)


@view_config(route_name="payments.subscriptions.list", request_method="GET",
             renderer="json", permission="user")
def list_subscriptions(request: Request) -> dict[str, Any]:
    subs = _service(request).list(request.identity.user_id)
    return {"items": [subscription_json(sub) for sub in subs]}


@view_config(route_name="payments.subscriptions.show", request_method="GET",
             renderer="json", permission="user")
def show(request: Request) -> dict[str, Any]:
    sub = _service(request).get(request.identity.user_id, request.matchdict["id"])
    return subscription_json(sub)


@view_config(route_name="payments.subscriptions.cancel", request_method="POST",
             renderer="json", permission="user")
def cancel(request: Request) -> dict[str, Any]:
    sub = _service(request).cancel(request.identity.user_id, request.matchdict["id"],
                                   request.validated_body["atCycleEnd"])
    return subscription_json(sub)


@view_config(route_name="payments.subscriptions.premium", request_method="GET",
             renderer="json", permission="user")
def premium(request: Request) -> dict[str, Any]:
    found = _service(request).entitlement(request.identity.user_id, "premium")
    return {"isPremium": found["active"], "premiumUntil": found["until"],
            "plan": found["plan"]}


@view_config(route_name="payments.subscriptions.pause", request_method="POST",
             renderer="json", permission="user")
def pause(request: Request) -> dict[str, Any]:
    return subscription_json(_service(request).pause(request.identity.user_id,
                                                     request.matchdict["id"]))


@view_config(route_name="payments.subscriptions.resume", request_method="POST",
             renderer="json", permission="user")
def resume(request: Request) -> dict[str, Any]:
    return subscription_json(_service(request).resume(request.identity.user_id,
                                                      request.matchdict["id"]))


def _admin_json(sub) -> dict[str, Any]:
    return {**subscription_json(sub), "userId": sub.user_id}


@view_config(route_name="payments.admin.subscriptions.list", request_method="GET",
             renderer="json", permission="admin")
def admin_list(request: Request) -> dict[str, Any]:
    query = request.validated_query
    subs, next_cursor = _service(request).admin_list(
        status=query["status"], limit=query["limit"], cursor=query["cursor"])
    return {"items": [_admin_json(sub) for sub in subs], "nextCursor": next_cursor}


def charge_json(charge) -> dict[str, Any]:
    return {"id": charge.id, "razorpayPaymentId": charge.razorpay_payment_id,
            "razorpayInvoiceId": charge.razorpay_invoice_id, "amount": charge.amount,
            "currency": charge.currency, "cycleStart": isoformat(charge.cycle_start),
            "cycleEnd": isoformat(charge.cycle_end), "anomaly": charge.anomaly,
            "orderId": charge.order_id, "refundedAt": isoformat(charge.refunded_at),
            "createdAt": isoformat(charge.created_at)}


@view_config(route_name="payments.admin.subscriptions.show", request_method="GET",
             renderer="json", permission="admin")
def admin_show(request: Request) -> dict[str, Any]:
    service = _service(request)
    sub = service.get_any(request.matchdict["id"])
    return {**_admin_json(sub), "charges": [charge_json(c) for c in service.charges(sub.id)]}


@view_config(route_name="payments.admin.subscriptions.refund", request_method="POST",
             renderer="json", permission="admin")
def refund_charge(request: Request) -> dict[str, Any]:
    """Refund one charge through the core's refunds. Its core order is made (and
    committed) in a short transaction of its own first, as the refund's reservation
    needs it committed; the request's own session is not touched before the refund."""
    body = request.validated_body
    admin_id = request.identity.user_id
    writer, _ = request.registry["banter_payments.session_factories"]
    with writer() as session, session.begin():
        order_id = _service(request).charge_order(session, request.matchdict["id"],
                                                  request.matchdict["charge_id"], admin_id)
    refund = request.find_service(IRefundService).create_refund(
        order_id, amount=body["amount"], reason=body["reason"], notes=body.get("notes"),
        gateway_key=gateway_key(request, order_id), created_by=admin_id)
    request.response.status_int = 201
    [shown] = refunds_to_json(request.dbsession, [refund])
    return shown
