"""Coin gifts between users: ``POST /gifts``.

Needs the ``coins`` asset (``banter_coins``) and refuses to start without it. Who may
gift whom is the host's policy (``banter_gifting.policy`` explains the directives).

Settings:

- ``gifting.policy``: ``friends`` (default; needs ``config.set_friendship_check``) or
  ``allow_all``;
- ``gifting.min_coins`` (1), ``gifting.max_coins`` (10000): the range of one gift;
- ``gifting.daily_cap_coins`` (50000): what one sender may give per UTC day.

A sent gift fires ``banter_payments.events.GiftSent`` (and ``Committed(GiftSent)`` after
commit, for notifications).
"""

from pyramid.exceptions import ConfigurationError

from .interfaces import IGiftService
from .policy import (
    MODES,
    resolve_rules,
    set_block_check,
    set_friendship_check,
    set_gift_policy,
    set_user_directory,
)
from .schemas import gift_body
from .services import GiftLimits, gift_service_factory
from .views import LIMITS_KEY

DEFAULTS = {"gifting.min_coins": 1, "gifting.max_coins": 10_000,
            "gifting.daily_cap_coins": 50_000}


def parse_settings(settings) -> tuple[str, GiftLimits]:
    mode = str(settings.get("gifting.policy") or "friends").strip().lower()
    if mode not in MODES:
        raise ConfigurationError(f"setting gifting.policy must be one of "
                                 f"{', '.join(MODES)}; got {mode!r}")
    values = {}
    for name, default in DEFAULTS.items():
        raw = settings.get(name)
        if raw is None or str(raw).strip() == "":
            values[name] = default
            continue
        try:
            values[name] = int(str(raw).strip())
        except ValueError:
            raise ConfigurationError(f"setting {name} must be a whole number of coins; "
                                     f"got {raw!r}") from None
        if values[name] < 1:
            raise ConfigurationError(f"setting {name} must be at least 1; got {raw!r}")
    limits = GiftLimits(values["gifting.min_coins"], values["gifting.max_coins"],
                        values["gifting.daily_cap_coins"])
    if limits.max_coins < limits.min_coins:
        raise ConfigurationError("setting gifting.max_coins must be at least "
                                 "gifting.min_coins")
    if limits.max_coins > 10**12:
        raise ConfigurationError("setting gifting.max_coins must be at most 10^12")
    return mode, limits


def includeme(config):
    mode, limits = parse_settings(config.registry.settings)
    config.registry[LIMITS_KEY] = limits
    config.register_service_factory(gift_service_factory, IGiftService)
    config.add_directive("set_gift_policy", set_gift_policy)
    config.add_directive("set_friendship_check", set_friendship_check)
    config.add_directive("set_block_check", set_block_check)
    config.add_directive("set_user_directory", set_user_directory)
    resolve_rules(config, mode)

    config.add_route("payments.gifts.create", "/gifts", request_method="POST")
    config.add_api_operation(
        "payments.gifts.create", "POST", tag="gifts", permission="user",
        summary="Send coins to another user",
        body=gift_body(limits.min_coins, limits.max_coins),
        responses={
            201: "Gift: {id, from, to, coins, note, reference, balance, createdAt}",
            400: "validation_failed: bad amount, note, or a gift to oneself",
            401: "unauthenticated", 403: "forbidden: the gift policy refuses it",
            404: "not_found: no such user",
            422: "insufficient_funds: the balance is too low",
            429: "rate_limited: past the daily cap (Retry-After: next UTC midnight)",
        },
    )
    config.scan(".views")
