"""The settings of banter_subscriptions, declared with the core's ``declare_settings``.

``subscriptions.plans`` replaces the default plans and ``subscriptions.extra_plans`` adds
to them; both take one plan a line::

    id | Name | period | interval | amount in minor units | total_count
"""

from __future__ import annotations

from banter_payments.settings import Setting, integer, records, text

# Banter Premium: ₹99 a month, ₹999 a year (paise). total_count is how many cycles
# Razorpay charges before the subscription completes (ten years either way).
DEFAULT_PLANS = (
    {"id": "premium.monthly", "name": "Banter Premium (monthly)", "period": "monthly",
     "interval": 1, "amount": 9900, "total_count": 120},
    {"id": "premium.yearly", "name": "Banter Premium (yearly)", "period": "yearly",
     "interval": 1, "amount": 99900, "total_count": 10},
)

_PLAN = records(("id", text), ("name", text), ("period", text), ("interval", integer()),
                ("amount", integer()), ("total_count", integer()))

SETTINGS = {
    "subscriptions.plans": Setting(
        list(DEFAULT_PLANS), _PLAN,
        doc="the subscription plans on sale, replacing the defaults (amount in minor units)"),
    "subscriptions.extra_plans": Setting([], _PLAN,
                                         doc="plans added to subscriptions.plans"),
    "subscriptions.grace_seconds": Setting(
        86400, integer(0, 30 * 86400),
        doc="how long an entitlement outlives the end of the last paid cycle"),
    "subscriptions.check_interval_seconds": Setting(
        300, integer(0, 86400),
        doc="how often the worker runs the subscription check job (0: not in the worker; "
            "run banter-check-subscriptions from cron instead)"),
    "subscriptions.recheck_seconds": Setting(
        3600, integer(60, 7 * 86400),
        doc="how long the check job waits before asking about the same subscription again"),
}
