"""The settings of banter_coins, declared with the core's ``declare_settings``.

``banter_coins.packages`` replaces the default packs and ``banter_coins.extra_packages``
adds to them; both take one pack a line::

    id | Name | coins | price in minor units | bonus [| popular] [| best_value]
"""

from __future__ import annotations

from banter_payments.settings import Setting, integer, records, text

# The product's eight packs. Prices in paise: ₹449 is 44900.
DEFAULT_PACKAGES = (
    {"id": "starter", "name": "Starter Pack", "coins": 100, "price": 9900},
    {"id": "basic", "name": "Basic Pack", "coins": 250, "price": 22900, "bonus": 40},
    {"id": "popular", "name": "Popular Pack", "coins": 500, "price": 44900, "bonus": 100,
     "popular": True},
    {"id": "premium", "name": "Premium Pack", "coins": 1000, "price": 84900, "bonus": 250},
    {"id": "mega", "name": "Mega Pack", "coins": 2500, "price": 199900, "bonus": 750},
    {"id": "ultra", "name": "Ultra Pack", "coins": 5000, "price": 349900, "bonus": 2000},
    {"id": "supreme", "name": "Supreme Pack", "coins": 10000, "price": 599900,
     "bonus": 5000},
    {"id": "ultimate", "name": "Ultimate Pack", "coins": 25000, "price": 1299900,
     "bonus": 15000, "best_value": True},
)

_PACKAGE = records(("id", text), ("name", text), ("coins", integer()), ("price", integer()),
                   ("bonus", integer()), flags=("popular", "best_value"))

SETTINGS = {
    "banter_coins.packages": Setting(
        list(DEFAULT_PACKAGES), _PACKAGE,
        doc="the packs on sale, replacing the defaults (price in minor units)"),
    "banter_coins.extra_packages": Setting(
        [], _PACKAGE, doc="packs added to banter_coins.packages"),
}
