"""``config.add_entitlement_describer(name, describe)``: how a plugin that sells a right
tells ``GET /wallet`` more about it than the grant says.

The wallet knows a right from its grants (``IWalletService.grant_entitlement``): active,
until when, what kind of thing granted it. A plugin that knows more (the subscriptions
plugin: which plan, and an inactive subscription too) registers a describer for that
right's name: ``describe(request, user_id, name)`` returns fields to show, or None. What
it says of an active right is shown over the grant's fields; it cannot hide a right that
another grant keeps active. One describer per name: a second is a configuration conflict.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

DESCRIBERS_KEY = "banter_payments.wallet.entitlement_describers"

Describer = Callable[[Any, str, str], dict[str, Any] | None]


def add_entitlement_describer(config, name: str, describe: Describer) -> None:
    if not isinstance(name, str) or not name:
        raise ValueError("an entitlement describer needs the right's name")
    if not callable(describe):
        raise ValueError(f"the describer of {name!r} is not callable")

    def register() -> None:
        config.registry.setdefault(DESCRIBERS_KEY, {})[name] = describe

    config.action(("banter_payments.entitlement_describer", name), register)


def entitlement_describers(registry: Any) -> dict[str, Describer]:
    return registry.get(DESCRIBERS_KEY, {})
