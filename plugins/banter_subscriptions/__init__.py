"""Premium plans on Razorpay Subscriptions: subscribe, renew, lapse and cancel.

Directive: ``config.add_subscription_plan(id, name, period, interval, amount, ...)``;
the defaults are ``premium.monthly`` (9900) and ``premium.yearly`` (99900), replaced or
extended from the ini (``settings.py``).

Routes (under the core's prefix): ``POST /subscriptions``, ``POST
/subscriptions/verify``, ``GET /subscriptions``, ``GET /subscriptions/{id}``, ``POST
/subscriptions/{id}/cancel``, ``/pause``, ``/resume``, ``GET /subscriptions/premium``;
admins: ``GET /admin/subscriptions?status=``, ``GET /admin/subscriptions/{id}``, ``POST
/admin/subscriptions/{id}/charges/{charge_id}/refunds``. Hosts ask
``ISubscriptionService`` (``entitlement``, ``is_premium``), ``request.premium`` or
``request.entitlements``.

Events: ``banter_subscriptions.events``. The check job: the worker's
``subscriptions.check`` (``jobs.py``), or ``banter-check-subscriptions`` from cron.
See docs/subscriptions.md.
"""

from banter_payments.events import RefundProcessed
from banter_payments.settings import from_setting

from .directives import add_subscription_plan, plans
from .events import TOPICS, subscription_fact
from .handlers import EVENTS, apply_subscription_event
from .interfaces import ISubscriptionService
from .jobs import run_check
from .schemas import (
    AdminSubscriptionsQuery,
    CancelBody,
    RefundChargeBody,
    SubscribeBody,
    VerifyBody,
)
from .services import subscription_service_factory
from .settings import SETTINGS
from .subscribers import end_refunded_cycle

SUBSCRIPTION = ("Subscription: {id, plan, status, razorpaySubscriptionId, amount, "
                "currency, paidCount, totalCount, currentStart, currentEnd, "
                "cancelAtCycleEnd, endedAt, premiumUntil, createdAt}")


def premium(request):
    """``request.premium``: the caller's premium, ``{active, until, source, plan}``."""
    identity = request.identity
    if identity is None:
        return {"active": False, "until": None, "source": "subscription", "plan": None}
    return request.find_service(ISubscriptionService).entitlement(identity.user_id)


def entitlements(request):
    """``request.entitlements``: ``{name: {active, until, source, plan}}`` for every
    entitlement a plan sells (``premium``), the caller's as ``request.premium``."""
    names = sorted({plan.entitlement for plan in plans(request.registry).values()})
    identity = request.identity
    if identity is None:
        return {name: {"active": False, "until": None, "source": "subscription",
                       "plan": None} for name in names}
    service = request.find_service(ISubscriptionService)
    return {name: service.entitlement(identity.user_id, name) for name in names}


def includeme(config):
    config.declare_settings(SETTINGS)
    settings = config.registry.settings
    config.add_directive("add_subscription_plan", add_subscription_plan)
    for name in ("subscriptions.plans", "subscriptions.extra_plans"):
        with from_setting(name):
            for plan in settings[name]:
                config.add_subscription_plan(**plan)
    config.register_service_factory(subscription_service_factory, ISubscriptionService)
    config.add_request_method(premium, "premium", reify=True)
    config.add_request_method(entitlements, "entitlements", reify=True)
    config.add_subscriber(end_refunded_cycle, RefundProcessed)
    interval = settings["subscriptions.check_interval_seconds"]
    if interval:
        config.add_worker_job("subscriptions.check", run_check, interval=interval)
    for event_name in EVENTS:
        config.add_webhook_handler(event_name, apply_subscription_event)
    for event_type, topic in TOPICS.items():
        config.add_outbox_topic(event_type, topic, subscription_fact)

    routes = [
        ("create", "/subscriptions", "POST", "user", "Subscribe to a plan",
         SubscribeBody, {201: f"{SUBSCRIPTION} with checkout {{key, subscription_id, "
                              f"name, description, prefill, notes, recurring}}",
                         400: "validation_failed: unknown plan",
                         409: "conflict: a live subscription in the plan's family",
                         502: "gateway_error"}),
        ("verify", "/subscriptions/verify", "POST", "user",
         "Check Checkout's subscription signature, then ask Razorpay", VerifyBody,
         {200: SUBSCRIPTION, 400: "validation_failed, signature_invalid",
          404: "not_found: not the caller's subscription", 502: "gateway_error"}),
        ("list", "/subscriptions", "GET", "user", "The caller's subscriptions", None,
         {200: "{items: [Subscription]}"}),
        ("premium", "/subscriptions/premium", "GET", "user",
         "Whether the caller is premium, and until when", None,
         {200: "{isPremium, premiumUntil, plan}"}),
        ("show", "/subscriptions/{id}", "GET", "user", "One of the caller's subscriptions",
         None, {200: SUBSCRIPTION, 404: "not_found: not the caller's subscription"}),
        ("cancel", "/subscriptions/{id}/cancel", "POST", "user",
         "Cancel at the end of the paid cycle (atCycleEnd, the default) or at once",
         CancelBody, {200: SUBSCRIPTION, 400: "validation_failed",
                      404: "not_found: not the caller's subscription",
                      502: "gateway_error"}),
        ("pause", "/subscriptions/{id}/pause", "POST", "user",
         "Pause an active subscription: no charge until resumed; the paid cycle (and "
         "premium to its end) is kept. Pausing twice changes nothing", None,
         {200: SUBSCRIPTION, 404: "not_found: not the caller's subscription",
          409: "conflict: not active", 502: "gateway_error"}),
        ("resume", "/subscriptions/{id}/resume", "POST", "user",
         "Resume a paused subscription: charged again from its next cycle boundary",
         None, {200: SUBSCRIPTION, 404: "not_found: not the caller's subscription",
                409: "conflict: not paused", 502: "gateway_error"}),
    ]
    for name, pattern, method, permission, summary, body, responses in routes:
        route = f"payments.subscriptions.{name}"
        config.add_route(route, pattern, request_method=method)
        options = {"body": body} if body is not None else {}
        config.add_api_operation(route, method, tag="subscriptions", permission=permission,
                                 summary=summary,
                                 responses={401: "unauthenticated", **responses}, **options)
    admin_routes = [
        ("list", "/admin/subscriptions", "GET",
         "Every subscription, newest first; ?status= for one status", None,
         AdminSubscriptionsQuery, {200: f"{{items: [{SUBSCRIPTION} with userId], "
                                        f"nextCursor}}", 400: "validation_failed"}),
        ("show", "/admin/subscriptions/{id}", "GET", "One subscription and its charges",
         None, None, {200: "Subscription with userId and charges [{id, razorpayPaymentId, "
                           "razorpayInvoiceId, amount, currency, cycleStart, cycleEnd, "
                           "anomaly, orderId, refundedAt, createdAt}]",
                      404: "not_found"}),
        ("refund", "/admin/subscriptions/{id}/charges/{charge_id}/refunds", "POST",
         "Refund one charge through the core's refunds (its cycle becomes a paid order); "
         "a full refund ends the entitlement that cycle bought",
         RefundChargeBody, None,
         {201: "Refund (as POST /orders/{id}/refunds answers)", 400: "validation_failed",
          404: "not_found: no such charge of this subscription",
          409: "conflict: more than is left to refund", 422: "idempotency_key_reused",
          502: "gateway_error: the outcome is unknown; the refund stays pending"}),
    ]
    for name, pattern, method, summary, body, query, responses in admin_routes:
        route = f"payments.admin.subscriptions.{name}"
        config.add_route(route, pattern, request_method=method)
        options = {"body": body} if body is not None else {}
        if query is not None:
            options["query"] = query
        config.add_api_operation(route, method, tag="subscriptions", permission="admin",
                                 summary=summary,
                                 responses={401: "unauthenticated", 403: "forbidden",
                                            **responses}, **options)
    config.scan(".views")
