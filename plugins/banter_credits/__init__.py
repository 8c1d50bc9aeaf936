"""Credit plans, credited to the ``credits`` wallet asset.

Directive: ``config.add_credit_plan(id, name, credits, price, popular=False)`` (price in
minor units; catalog sku ``credits.<id>``).

Settings:

- ``banter_credits.plans``: replaces the default plans (one per line,
  ``id | Name | credits | price [| popular]``, price in minor units);
- ``banter_credits.extra_plans``: adds plans to the defaults (or to the replacement),
  same format.

Route: ``GET /credits/summary``, the caller's credit balance, lifetime credits, credits
spent, and money spent on credit plans.
"""

from .plans import DEFAULT_PLANS, add_credit_plan, parse_plans
from .schemas import SummaryQuery


def includeme(config):
    settings = config.registry.settings
    config.add_asset("credits", title="Credits", description="Credits to spend in the app")
    config.add_directive("add_credit_plan", add_credit_plan)

    replacement = settings.get("banter_credits.plans", "").strip()
    plans = (parse_plans("banter_credits.plans", replacement) if replacement
             else list(DEFAULT_PLANS))
    extra = settings.get("banter_credits.extra_plans", "").strip()
    if extra:
        plans += parse_plans("banter_credits.extra_plans", extra)
    for plan in plans:
        config.add_credit_plan(plan.id, plan.name, plan.credits, plan.price,
                               popular=plan.popular)

    config.add_route("payments.credits.summary", "/credits/summary")
    config.add_api_operation(
        "payments.credits.summary", "GET", tag="credits", permission="user",
        summary="Credit balance, lifetime credits, credits spent and money spent on plans",
        query=SummaryQuery,
        responses={200: "{userId, balance, lifetimeCredits, creditsSpent, creditsRefunded, "
                        "purchases, totalSpent: [{amount, currency}]}",
                   400: "validation_failed", 401: "unauthenticated",
                   404: "not_found: another user's summary, not as admin"},
    )
    config.scan(".views")
