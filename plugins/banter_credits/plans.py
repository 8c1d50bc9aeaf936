"""Credit plans: the directive, the default plans, and the ini format operators use."""

from __future__ import annotations

import re
from dataclasses import dataclass

from pyramid.exceptions import ConfigurationError

_PLAN_ID = re.compile(r"[a-z0-9][a-z0-9_-]{0,49}")


@dataclass(frozen=True)
class CreditPlan:
    id: str
    name: str
    credits: int
    price: int  # minor units (paise for INR)
    popular: bool = False

    @property
    def price_per_credit(self) -> int:
        """The price of one credit in minor units, rounded half up, for display only
        (₹20,000 for 3,000 credits shows 667 paise); what is charged is ``price``."""
        return (2 * self.price + self.credits) // (2 * self.credits)


# The product's five plans. Prices in paise: ₹1,000 is 100000.
DEFAULT_PLANS = (
    CreditPlan("basic", "Basic", 100, 100000),
    CreditPlan("standard", "Standard", 500, 450000, popular=True),
    CreditPlan("premium", "Premium", 1000, 800000),
    CreditPlan("enterprise", "Enterprise", 3000, 2000000),
    CreditPlan("ultimate", "Ultimate", 5000, 3000000),
)


def add_credit_plan(config, id: str, name: str, credits: int, price: int,
                    popular: bool = False, currency: str | None = None,
                    description: str = "") -> None:
    """Sell ``credits`` for ``price`` minor units as catalog sku ``credits.<id>``.

    Wraps ``add_catalog_item``, so a second plan with the same id is a start-up
    conflict, and a price below the currency's minimum is refused there.
    """
    if not isinstance(id, str) or not _PLAN_ID.fullmatch(id):
        raise ConfigurationError(f"credit plan {id!r}: the id must be 1-50 lowercase "
                                 f"letters, digits, '-' or '_'")
    if not isinstance(name, str) or not name.strip():
        raise ConfigurationError(f"credit plan {id}: a name is required")
    if isinstance(credits, bool) or not isinstance(credits, int) or credits <= 0:
        raise ConfigurationError(f"credit plan {id}: credits must be a positive whole "
                                 f"number, got {credits!r}")
    if isinstance(price, bool) or not isinstance(price, int) or price <= 0:
        raise ConfigurationError(f"credit plan {id}: price must be a positive whole number "
                                 f"of minor units (450000 for ₹4,500), got {price!r}")
    plan = CreditPlan(id, name, credits, price, bool(popular))
    config.add_catalog_item(
        f"credits.{id}",
        kind="credits",
        name=name,
        amount=price,
        currency=currency,
        grants={"credits": credits},
        description=description or f"{credits} credits",
        display={
            "credits": credits,
            "popular": plan.popular,
            "pricePerCredit": plan.price_per_credit,
        },
        sort_key=(credits,),
    )


def parse_plans(setting_name: str, text: str) -> list[CreditPlan]:
    """Parse the ini format, one plan a line::

        id | Name | credits | price in minor units [| popular]
    """
    plans = []
    for number, line in enumerate(text.strip().splitlines(), start=1):
        if not line.strip():
            continue
        fields = [field.strip() for field in line.split("|")]
        if len(fields) not in (4, 5) or (len(fields) == 5 and fields[4] != "popular"):
            raise ConfigurationError(
                f"setting {setting_name}, line {number}: expected "
                f"'id | Name | credits | price [| popular]', got {line!r}"
            )
        try:
            credits, price = int(fields[2]), int(fields[3])
        except ValueError:
            raise ConfigurationError(
                f"setting {setting_name}, line {number}: credits and price must be whole "
                f"numbers (price in minor units: 450000 for ₹4,500)"
            ) from None
        plans.append(CreditPlan(fields[0], fields[1], credits, price, len(fields) == 5))
    if not plans:
        raise ConfigurationError(f"setting {setting_name}: no plans given")
    return plans
