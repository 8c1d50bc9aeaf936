"""Credit plans, credited to the ``credits`` wallet asset.

Directive: ``config.add_credit_plan(id, name, credits, price, popular=False)`` (price in
minor units; catalog sku ``credits.<id>``).

Settings: see ``settings.py``.

Route: ``GET /credits/summary``, the caller's credit balance, lifetime credits, credits
spent, and money spent on credit plans.
"""

from banter_payments.settings import from_setting

from .directives import add_credit_plan
from .schemas import SummaryQuery
from .settings import SETTINGS


def includeme(config):
    config.declare_settings(SETTINGS)
    settings = config.registry.settings
    config.add_asset("credits", title="Credits", description="Credits to spend in the app")
    config.add_directive("add_credit_plan", add_credit_plan)
    for name in ("banter_credits.plans", "banter_credits.extra_plans"):
        with from_setting(name):
            for plan in settings[name]:
                config.add_credit_plan(**plan)

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
