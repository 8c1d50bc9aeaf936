"""``config.add_credit_plan``: a credit plan, sold as catalog sku ``credits.<id>``."""

from __future__ import annotations

from banter_payments.arguments import (
    check_arguments,
    currency_code,
    flag,
    slug,
    text,
    whole_number,
)


def price_per_credit(price: int, credits: int) -> int:
    """The price of one credit in minor units, rounded half up, for display only
    (₹20,000 for 3,000 credits shows 667 paise); what is charged is the plan's price."""
    return (2 * price + credits) // (2 * credits)


def add_credit_plan(config, id: str, name: str, credits: int, price: int,
                    popular: bool = False, currency: str | None = None,
                    description: str = "") -> None:
    """Sell ``credits`` for ``price`` minor units.

    Wraps ``add_catalog_item``, so a second plan with the same id is a start-up
    conflict, and a price below the currency's minimum is refused there.
    """
    check_arguments(f"credit plan {id!r}", {
        "id": (id, slug()),
        "name": (name, text(200)),
        "credits": (credits, whole_number(minimum=1)),
        "price": (price, whole_number(minimum=1)),
        "popular": (popular, flag),
        "currency": (currency, currency_code),
        "description": (description, text(500, required=False)),
    })
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
            "popular": popular,
            "pricePerCredit": price_per_credit(price, credits),
        },
        sort_key=(credits,),
    )
