"""Coin gifts between users: ``POST /gifts``.

Needs the ``coins`` asset (``banter_coins``) and refuses to start without it. Who may
gift whom is the host's policy (``banter_gifting.policy`` explains the directives).

Settings: see ``settings.py`` (the gift range and the daily cap, and which built-in
policy applies when the host sets none).

A sent gift fires ``banter_gifting.events.GiftSent`` (and ``Committed(GiftSent)`` after
commit, for notifications).
"""

from pyramid.exceptions import ConfigurationError

from .events import GIFT_SENT, GiftSent, gift_sent_fact
from .interfaces import IGiftService
from .policy import (
    resolve_rules,
    set_block_check,
    set_friendship_check,
    set_gift_policy,
)
from .schemas import gift_body
from .services import GiftLimits, gift_service_factory
from .settings import SETTINGS
from .views import LIMITS_KEY


def includeme(config):
    config.declare_settings(SETTINGS)
    settings = config.registry.settings
    limits = GiftLimits(settings["gifting.min_coins"], settings["gifting.max_coins"],
                        settings["gifting.daily_cap_coins"])
    if limits.max_coins < limits.min_coins:
        raise ConfigurationError("setting gifting.max_coins must be at least "
                                 "gifting.min_coins")
    config.registry[LIMITS_KEY] = limits
    config.register_service_factory(gift_service_factory, IGiftService)
    config.add_directive("set_gift_policy", set_gift_policy)
    config.add_directive("set_friendship_check", set_friendship_check)
    config.add_directive("set_block_check", set_block_check)
    resolve_rules(config, settings["gifting.policy"])

    config.add_outbox_topic(GiftSent, GIFT_SENT, gift_sent_fact)
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
