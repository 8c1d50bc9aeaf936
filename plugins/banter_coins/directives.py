"""``config.add_coin_package``: a coin pack, sold as catalog sku ``coins.<id>``."""

from __future__ import annotations

from banter_payments.arguments import check_arguments, currency_code, flag, slug, text, whole_number


def add_coin_package(config, id: str, name: str, coins: int, price: int, bonus: int = 0,
                     popular: bool = False, best_value: bool = False,
                     currency: str | None = None, description: str = "") -> None:
    """Sell ``coins`` (+ ``bonus``) for ``price`` minor units.

    Wraps ``add_catalog_item``, so a second package with the same id is a start-up
    conflict and a price below the currency's minimum is refused there.
    """
    check_arguments(f"coin package {id!r}", {
        "id": (id, slug()),
        "name": (name, text(200)),
        "coins": (coins, whole_number(minimum=1)),
        "price": (price, whole_number(minimum=1)),
        "bonus": (bonus, whole_number()),
        "popular": (popular, flag),
        "best_value": (best_value, flag),
        "currency": (currency, currency_code),
        "description": (description, text(500, required=False)),
    })
    config.add_catalog_item(
        f"coins.{id}",
        kind="coins",
        name=name,
        amount=price,
        currency=currency,
        grants={"coins": coins + bonus},
        description=description or f"{coins + bonus} coins",
        display={
            "coins": coins,
            "bonus": bonus,
            # The bonus as a whole percentage of the base coins, rounded down, for display.
            "bonusPercent": (bonus * 100) // coins,
            "popular": popular,
            "bestValue": best_value,
        },
        sort_key=(price,),
    )
