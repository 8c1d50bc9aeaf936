"""Coin packages, credited to the ``coins`` wallet asset.

Settings:

- ``banter_coins.packages``: replaces the default packs (one per line,
  ``id | Name | coins | price | bonus [| popular] [| best_value]``, price in minor units);
- ``banter_coins.extra_packages``: adds packs to the defaults, same format.
"""

from .packages import DEFAULT_PACKAGES, add_coin_package, parse_packages


def includeme(config):
    settings = config.registry.settings
    config.add_asset("coins", title="Coins", description="In-app coins")
    config.add_directive("add_coin_package", add_coin_package)

    replacement = settings.get("banter_coins.packages", "").strip()
    packages = (parse_packages("banter_coins.packages", replacement) if replacement
                else list(DEFAULT_PACKAGES))
    packages += parse_packages("banter_coins.extra_packages",
                               settings.get("banter_coins.extra_packages", ""))
    for package in packages:
        config.add_coin_package(package.id, package.name, package.coins, package.price,
                                bonus=package.bonus, popular=package.popular,
                                best_value=package.best_value)
