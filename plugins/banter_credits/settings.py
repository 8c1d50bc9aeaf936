"""The settings of banter_credits, declared with the core's ``declare_settings``.

``banter_credits.plans`` replaces the default plans and ``banter_credits.extra_plans``
adds to them; both take one plan a line::

    id | Name | credits | price in minor units [| popular]
"""

from __future__ import annotations

from banter_payments.settings import Setting, integer, records, text

# The product's five plans. Prices in paise: ₹1,000 is 100000.
DEFAULT_PLANS = (
    {"id": "basic", "name": "Basic", "credits": 100, "price": 100000},
    {"id": "standard", "name": "Standard", "credits": 500, "price": 450000,
     "popular": True},
    {"id": "premium", "name": "Premium", "credits": 1000, "price": 800000},
    {"id": "enterprise", "name": "Enterprise", "credits": 3000, "price": 2000000},
    {"id": "ultimate", "name": "Ultimate", "credits": 5000, "price": 3000000},
)

_PLAN = records(("id", text), ("name", text), ("credits", integer()), ("price", integer()),
                flags=("popular",))

SETTINGS = {
    "banter_credits.plans": Setting(
        list(DEFAULT_PLANS), _PLAN,
        doc="the plans on sale, replacing the defaults (price in minor units)"),
    "banter_credits.extra_plans": Setting([], _PLAN, doc="plans added to banter_credits.plans"),
}
