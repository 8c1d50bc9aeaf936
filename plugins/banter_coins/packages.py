"""Coin packages: the directive, the default packs, and the ini format operators use."""

from __future__ import annotations

from dataclasses import dataclass

from pyramid.exceptions import ConfigurationError


@dataclass(frozen=True)
class CoinPackage:
    id: str
    name: str
    coins: int
    price: int  # minor units (paise for INR)
    bonus: int = 0
    popular: bool = False
    best_value: bool = False

    @property
    def bonus_percent(self) -> int:
        """The bonus as a whole percentage of the base coins, for display."""
        return (self.bonus * 100) // self.coins


# The product's eight packs. Prices in paise: ₹449 is 44900.
DEFAULT_PACKAGES = (
    CoinPackage("starter", "Starter Pack", 100, 9900),
    CoinPackage("basic", "Basic Pack", 250, 22900, bonus=40),
    CoinPackage("popular", "Popular Pack", 500, 44900, bonus=100, popular=True),
    CoinPackage("premium", "Premium Pack", 1000, 84900, bonus=250),
    CoinPackage("mega", "Mega Pack", 2500, 199900, bonus=750),
    CoinPackage("ultra", "Ultra Pack", 5000, 349900, bonus=2000),
    CoinPackage("supreme", "Supreme Pack", 10000, 599900, bonus=5000),
    CoinPackage("ultimate", "Ultimate Pack", 25000, 1299900, bonus=15000, best_value=True),
)

_FLAGS = {"popular", "best_value"}


def add_coin_package(config, id: str, name: str, coins: int, price: int, bonus: int = 0,
                     popular: bool = False, best_value: bool = False,
                     currency: str | None = None, description: str = "") -> None:
    """Sell ``coins`` (+ ``bonus``) for ``price`` minor units as catalog sku ``coins.<id>``.

    Wraps ``add_catalog_item``, so a second package with the same id is a start-up
    conflict.
    """
    for field, value in (("coins", coins), ("bonus", bonus)):
        if isinstance(value, bool) or not isinstance(value, int) or value < 0:
            raise ConfigurationError(f"coin package {id}: {field} must be a whole number")
    if coins == 0:
        raise ConfigurationError(f"coin package {id}: coins must be positive")
    package = CoinPackage(id, name, coins, price, bonus, popular, best_value)
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
            "bonusPercent": package.bonus_percent,
            "popular": popular,
            "bestValue": best_value,
        },
        sort_key=(price,),
    )


def parse_packages(setting_name: str, text: str) -> list[CoinPackage]:
    """Parse the ini format, one package a line::

        id | Name | coins | price in minor units | bonus [| popular] [| best_value]
    """
    packages = []
    for number, line in enumerate(text.strip().splitlines(), start=1):
        if not line.strip():
            continue
        fields = [f.strip() for f in line.split("|")]
        if len(fields) < 5:
            raise ConfigurationError(
                f"setting {setting_name}, line {number}: expected "
                f"'id | Name | coins | price | bonus [| popular] [| best_value]', got {line!r}"
            )
        flags = set(fields[5:])
        if flags - _FLAGS:
            raise ConfigurationError(
                f"setting {setting_name}, line {number}: unknown flag(s) "
                f"{', '.join(sorted(flags - _FLAGS))} (known: popular, best_value)"
            )
        try:
            coins, price, bonus = (int(v) for v in fields[2:5])
        except ValueError:
            raise ConfigurationError(
                f"setting {setting_name}, line {number}: coins, price and bonus must be "
                f"whole numbers (price in minor units: 44900 for ₹449)"
            ) from None
        packages.append(CoinPackage(fields[0], fields[1], coins, price, bonus,
                                    "popular" in flags, "best_value" in flags))
    return packages
