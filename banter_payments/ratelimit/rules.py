"""``ratelimit.rules``: which route is limited, how much, written in the ini.

One rule per route, rules separated by commas or new lines; a route may have several
limits separated by ``;`` (all must hold)::

    ratelimit.rules =
        payments.orders.create: 15/hour; 100/day
        payments.verify: 10/15minutes

Limits use the ``limits`` notation (``15/hour``, ``10 per 15 minutes``). Webhook routes
can never be limited: Razorpay retries a refused delivery for a day and then disables
the webhook.
"""

from __future__ import annotations

import re

from limits import RateLimitItem, parse_many
from pyramid.exceptions import ConfigurationError

NEVER_LIMITED_PREFIXES = ("payments.webhooks.",)
_ROUTE = re.compile(r"[A-Za-z0-9_.-]+")


def parse_rules(text: str, setting: str = "ratelimit.rules") -> dict[str, list[RateLimitItem]]:
    rules: dict[str, list[RateLimitItem]] = {}
    for entry in re.split(r"[,\n]", text or ""):
        entry = entry.strip()
        if not entry:
            continue
        route, sep, spec = entry.partition(":")
        route, spec = route.strip(), spec.strip()
        if not sep or not _ROUTE.fullmatch(route) or not spec:
            raise ConfigurationError(
                f"setting {setting}: {entry!r} is not 'route.name: limit' (e.g. "
                f"'payments.verify: 10/15minutes')"
            )
        if route.startswith(NEVER_LIMITED_PREFIXES):
            raise ConfigurationError(f"setting {setting}: webhook route {route} is never "
                                     f"rate limited (Razorpay would disable the webhook)")
        if route in rules:
            raise ConfigurationError(f"setting {setting}: route {route} is listed twice")
        try:
            limits = parse_many(spec)
        except ValueError:
            raise ConfigurationError(
                f"setting {setting}: {spec!r} for {route} is not a rate limit "
                f"(e.g. '15/hour' or '10/15minutes')"
            ) from None
        rules[route] = list(limits)
    return rules
