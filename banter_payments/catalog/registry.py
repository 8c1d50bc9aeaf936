"""Assets and catalog items: what a wallet holds and what a user can buy.

Both are configuration, not data: plugins and host apps register them with the
``add_asset`` / ``add_catalog_item`` directives at start-up, each under a discriminator,
so registering the same name twice is a ``ConfigurationConflictError`` instead of one
registration silently winning.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from pyramid.exceptions import ConfigurationError

ASSETS_KEY = "banter_payments.assets"
CATALOG_KEY = "banter_payments.catalog"
MINIMUM_AMOUNT = {"INR": 100}


@dataclass(frozen=True)
class Asset:
    name: str
    title: str
    description: str = ""


@dataclass(frozen=True)
class CatalogItem:
    sku: str
    kind: str
    name: str
    amount: int
    currency: str
    grants: dict[str, int] = field(default_factory=dict)
    entitlements: tuple[str, ...] = ()
    description: str = ""
    # The plugin's own display fields (bonus, bonusPercent, popular, ...), shown as-is.
    display: dict[str, Any] = field(default_factory=dict)
    sort_key: tuple = ()

    def to_json(self) -> dict[str, Any]:
        return {
            "sku": self.sku,
            "kind": self.kind,
            "name": self.name,
            "description": self.description,
            "amount": self.amount,
            "currency": self.currency,
            "grants": dict(self.grants),
            "entitlements": list(self.entitlements),
            **self.display,
        }


def assets(registry) -> dict[str, Asset]:
    return registry.get(ASSETS_KEY, {})


def catalog(registry) -> dict[str, CatalogItem]:
    return registry.get(CATALOG_KEY, {})


def add_asset(config, name: str, title: str | None = None, description: str = "") -> None:
    if not name or not name.isidentifier() or not name.islower():
        raise ConfigurationError(f"asset name {name!r} must be a lowercase identifier")
    asset = Asset(name=name, title=title or name.capitalize(), description=description)

    def register():
        config.registry.setdefault(ASSETS_KEY, {})[name] = asset

    # Assets register before items (lower order runs first), so an item in the same
    # commit can check that what it grants exists.
    config.action(("banter_payments.asset", name), register, order=-10,
                  introspectables=())


def add_catalog_item(config, sku: str, *, kind: str, name: str, amount: int,
                     currency: str | None = None, grants: dict[str, int] | None = None,
                     entitlements: tuple[str, ...] | list[str] = (), description: str = "",
                     display: dict[str, Any] | None = None, sort_key: tuple = ()) -> None:
    currency = (currency or config.registry.settings["banter_payments.currency"]).upper()
    grants = dict(grants or {})
    if not sku or len(sku) > 100 or any(ch.isspace() for ch in sku):
        raise ConfigurationError(f"catalog sku {sku!r} must be 1-100 characters, no spaces")
    if isinstance(amount, bool) or not isinstance(amount, int):
        raise ConfigurationError(f"catalog item {sku}: amount must be an integer of minor "
                                 f"units, got {amount!r}")
    minimum = MINIMUM_AMOUNT.get(currency, 1)
    if amount < minimum:
        raise ConfigurationError(f"catalog item {sku}: amount must be at least {minimum} "
                                 f"{currency} minor units")
    for asset_name, quantity in grants.items():
        if isinstance(quantity, bool) or not isinstance(quantity, int) or quantity <= 0:
            raise ConfigurationError(f"catalog item {sku}: grant of {asset_name} must be a "
                                     f"positive integer, got {quantity!r}")
    if not grants and not entitlements:
        raise ConfigurationError(f"catalog item {sku} grants nothing")
    item = CatalogItem(sku=sku, kind=kind, name=name, amount=amount, currency=currency,
                       grants=grants, entitlements=tuple(entitlements),
                       description=description, display=dict(display or {}),
                       sort_key=sort_key)

    def register():
        known = assets(config.registry)
        for asset_name in grants:
            if asset_name not in known:
                raise ConfigurationError(
                    f"catalog item {sku} grants unknown asset {asset_name!r}; "
                    f"register it with config.add_asset({asset_name!r})"
                )
        config.registry.setdefault(CATALOG_KEY, {})[sku] = item

    config.action(("banter_payments.catalog_item", sku), register)
