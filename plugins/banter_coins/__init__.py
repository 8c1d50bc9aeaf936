"""Coin packages, credited to the ``coins`` wallet asset: the template for a plugin.

Directive: ``config.add_coin_package(id, name, coins, price, bonus=0, popular=False,
best_value=False)`` (price in minor units; catalog sku ``coins.<id>``). Settings: see
``settings.py``. ``docs/plugins.md`` walks through this shape.
"""

from banter_payments.settings import from_setting

from .directives import add_coin_package
from .settings import SETTINGS


def includeme(config):
    config.declare_settings(SETTINGS)
    settings = config.registry.settings
    config.add_asset("coins", title="Coins", description="In-app coins")
    config.add_directive("add_coin_package", add_coin_package)
    for name in ("banter_coins.packages", "banter_coins.extra_packages"):
        with from_setting(name):
            for package in settings[name]:
                config.add_coin_package(**package)
