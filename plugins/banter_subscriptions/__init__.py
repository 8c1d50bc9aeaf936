"""Premium plans on Razorpay Subscriptions: subscribe, renew, lapse and cancel.

Directive: ``config.add_subscription_plan(id, name, period, interval, amount, ...)``;
the defaults are ``premium.monthly`` (9900) and ``premium.yearly`` (99900), replaced or
extended from the ini (``settings.py``).

Routes (under the core's prefix): ``POST /subscriptions``, ``POST
/subscriptions/verify``, ``GET /subscriptions``, ``GET /subscriptions/{id}``, ``POST
/subscriptions/{id}/cancel``, ``GET /subscriptions/premium``. Hosts ask
``ISubscriptionService`` (``entitlement``, ``is_premium``) or ``request.premium``.

Events: ``banter_subscriptions.events``. The check job: ``banter-check-subscriptions``.
See docs/subscriptions.md.
"""

from banter_payments.settings import from_setting

from .directives import add_subscription_plan
from .handlers import EVENTS, apply_subscription_event
from .interfaces import ISubscriptionService
from .schemas import CancelBody, SubscribeBody, VerifyBody
from .services import subscription_service_factory
from .settings import SETTINGS

SUBSCRIPTION = ("Subscription: {id, plan, status, razorpaySubscriptionId, amount, "
                "currency, paidCount, totalCount, currentStart, currentEnd, "
                "cancelAtCycleEnd, endedAt, premiumUntil, createdAt}")


def premium(request):
    """``request.premium``: the caller's premium, ``{active, until, source, plan}``."""
    identity = request.identity
    if identity is None:
        return {"active": False, "until": None, "source": "subscription", "plan": None}
    return request.find_service(ISubscriptionService).entitlement(identity.user_id)


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
    for event_name in EVENTS:
        config.add_webhook_handler(event_name, apply_subscription_event)

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
    ]
    for name, pattern, method, permission, summary, body, responses in routes:
        route = f"payments.subscriptions.{name}"
        config.add_route(route, pattern, request_method=method)
        options = {"body": body} if body is not None else {}
        config.add_api_operation(route, method, tag="subscriptions", permission=permission,
                                 summary=summary,
                                 responses={401: "unauthenticated", **responses}, **options)
    config.scan(".views")
