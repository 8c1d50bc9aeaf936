"""``config.add_subscription_plan``: a recurring plan, shown in ``GET /catalog`` with
``kind: "subscription"`` and sold only through ``POST /subscriptions``."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from banter_payments.arguments import (
    check_arguments,
    currency_code,
    mapping_of,
    slug,
    text,
    whole_number,
)

from .interfaces import ISubscriptionService

PLANS_KEY = "banter_subscriptions.plans"
PERIODS = ("daily", "weekly", "monthly", "yearly")


@dataclass(frozen=True)
class Plan:
    id: str
    name: str
    period: str
    interval: int
    amount: int
    currency: str
    total_count: int
    entitlement: str
    grants_per_cycle: dict[str, int] = field(default_factory=dict)
    description: str = ""


DESCRIBED_KEY = "banter_subscriptions.described_entitlements"


def plans(registry: Any) -> dict[str, Plan]:
    return registry.get(PLANS_KEY, {})


def _period(value: Any) -> None:
    if value not in PERIODS:
        raise ValueError(f"must be one of {', '.join(PERIODS)}, got {value!r}")


def _plan_id(value: Any) -> None:
    if not isinstance(value, str) or not value or len(value) > 100 or not all(
            part and part.replace("-", "").replace("_", "").isalnum()
            and part.islower() for part in value.split(".")):
        raise ValueError(f"must be lowercase words joined by '.', got {value!r}")


def add_subscription_plan(config, id: str, name: str, period: str, interval: int,
                          amount: int, currency: str | None = None, total_count: int = 120,
                          entitlement: str = "premium",
                          grants_per_cycle: dict[str, int] | None = None,
                          display: dict[str, Any] | None = None,
                          description: str = "") -> None:
    """Sell ``entitlement`` every ``interval`` ``period`` for ``amount`` minor units,
    for ``total_count`` cycles; ``grants_per_cycle`` ({asset: quantity}) is credited
    through the ledger once per paid cycle. A second plan with the same id is a
    start-up conflict (the catalog item's discriminator and this one's)."""
    check_arguments(f"subscription plan {id!r}", {
        "id": (id, _plan_id),
        "name": (name, text(200)),
        "period": (period, _period),
        "interval": (interval, whole_number(minimum=1, maximum=365)),
        "amount": (amount, whole_number(minimum=1)),
        "currency": (currency, currency_code),
        "total_count": (total_count, whole_number(minimum=1, maximum=1200)),
        "entitlement": (entitlement, slug(64)),
        "grants_per_cycle": (grants_per_cycle or {}, mapping_of(slug(32),
                                                                whole_number(minimum=1))),
        "display": (display or {}, mapping_of(text(50), lambda value: None)),
        "description": (description, text(500, required=False)),
    })
    currency = (currency or config.registry.settings["banter_payments.currency"]).upper()
    plan = Plan(id=id, name=name, period=period, interval=interval, amount=amount,
                currency=currency, total_count=total_count, entitlement=entitlement,
                grants_per_cycle=dict(grants_per_cycle or {}), description=description)
    config.add_catalog_item(
        id, kind="subscription", name=name, amount=amount, currency=currency,
        grants=plan.grants_per_cycle, entitlements=(entitlement,),
        description=description or name,
        display={"period": period, "interval": interval, "totalCount": total_count,
                 **(display or {})},
        sort_key=(entitlement, interval * {"daily": 1, "weekly": 7, "monthly": 30,
                                           "yearly": 365}[period]),
    )

    described = config.registry.setdefault(DESCRIBED_KEY, set())
    if entitlement not in described:  # one describer per right, whatever sells it
        described.add(entitlement)
        config.add_entitlement_describer(entitlement, describe_entitlement)

    def register():
        config.registry.setdefault(PLANS_KEY, {})[id] = plan

    config.action(("banter_subscriptions.plan", id), register)


def describe_entitlement(request: Any, user_id: str, name: str) -> dict[str, Any] | None:
    """``GET /wallet``'s entitlement ``name``: ``{active, until, source, plan}`` of the
    user's subscription that pays for it longest, or None when there is none."""
    shown = request.find_service(ISubscriptionService).entitlement(user_id, name)
    return shown if shown["plan"] is not None else None
