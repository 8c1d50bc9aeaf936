"""The subscription routes: subscribe, verify Checkout's answer, read, cancel, and the
caller's premium."""

from __future__ import annotations

from typing import Any

from pyramid.request import Request
from pyramid.view import view_config

from banter_payments.gateway.interfaces import IPaymentGateway

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
