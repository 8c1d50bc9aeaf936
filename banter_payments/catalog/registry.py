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

from ..arguments import (
    check_arguments,
    currency_code,
    mapping_of,
    sequence_of,
    text,
    whole_number,
)

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


def asset_name(value: Any) -> None:
    """An asset's name: a lowercase identifier (``coins``), a ledger account key."""
    if not isinstance(value, str) or not value.isidentifier() or not value.islower() \
            or len(value) > 32:
        raise ValueError(f"must be a lowercase identifier of at most 32 characters, got "
                         f"{value!r}")


def sku_text(value: Any) -> None:
    if not isinstance(value, str) or not value or len(value) > 100 \
            or any(ch.isspace() for ch in value):
        raise ValueError(f"must be 1-100 characters, no spaces, got {value!r}")


def add_asset(config, name: str, title: str | None = None, description: str = "") -> None:
    check_arguments(f"asset {name!r}", {
        "name": (name, asset_name),
        "title": (title or "untitled", text(100)),
        "description": (description, text(500, required=False)),
    })
    asset = Asset(name=name, title=title or name.capitalize(), description=description)

    def register():
        config.registry.setdefault(ASSETS_KEY, {})[name] = asset

    # Assets register before items (lower order runs first), so an item in the same
    # commit can check that what it grants exists.
    config.action(("banter_payments.asset", name), register, order=-10,
                  introspectables=())


def _any(value: Any) -> None:
    """Anything goes (display fields are the plugin's own)."""


def add_catalog_item(config, sku: str, *, kind: str, name: str, amount: int,
                     currency: str | None = None, grants: dict[str, int] | None = None,
                     entitlements: tuple[str, ...] | list[str] = (), description: str = "",
                     display: dict[str, Any] | None = None, sort_key: tuple = ()) -> None:
    check_arguments(f"catalog item {sku!r}", {
        "sku": (sku, sku_text),
        "kind": (kind, text(50)),
        "name": (name, text(200)),
        "amount": (amount, whole_number(minimum=1)),
        "currency": (currency, currency_code),
        "grants": (grants or {}, mapping_of(asset_name, whole_number(minimum=1))),
        "entitlements": (entitlements, sequence_of(text(100))),
        "description": (description, text(500, required=False)),
        "display": (display or {}, mapping_of(text(50), _any)),
        "sort_key": (sort_key, sequence_of(_any)),
    })
    currency = (currency or config.registry.settings["banter_payments.currency"]).upper()
    grants = dict(grants or {})
    minimum = MINIMUM_AMOUNT.get(currency, 1)
    if amount < minimum:
        raise ConfigurationError(f"catalog item {sku!r}: amount must be at least {minimum} "
                                 f"{currency} minor units, got {amount!r}")
    if not grants and not entitlements:
        raise ConfigurationError(f"catalog item {sku!r} grants nothing: give it grants "
                                 f"or entitlements")
    item = CatalogItem(sku=sku, kind=kind, name=name, amount=amount, currency=currency,
                       grants=grants, entitlements=tuple(entitlements),
                       description=description, display=dict(display or {}),
                       sort_key=sort_key)

    def register():
        known = assets(config.registry)
        for granted in grants:
            if granted not in known:
                raise ConfigurationError(
                    f"catalog item {sku} grants unknown asset {granted!r}; "
                    f"register it with config.add_asset({granted!r})"
                )
        config.registry.setdefault(CATALOG_KEY, {})[sku] = item

    config.action(("banter_payments.catalog_item", sku), register)
