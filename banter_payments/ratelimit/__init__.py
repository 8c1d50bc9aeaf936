"""Rate limits per route and caller, configured in the ini (see ``rules``)."""

from __future__ import annotations

import logging

from pyramid.events import ApplicationCreated, ContextFound
from pyramid.exceptions import ConfigurationError
from pyramid.interfaces import IRoutesMapper

from .rules import parse_rules
from .services import IRateLimiter, RateLimiter
from .subscribers import check_rate_limit

log = logging.getLogger(__name__)


def includeme(config) -> None:
    settings = config.registry.settings
    if not settings["ratelimit.enabled"]:
        return
    rules = parse_rules(settings["ratelimit.rules"])
    try:
        limiter = RateLimiter(settings["ratelimit.storage_url"], settings["ratelimit.strategy"],
                              rules)
    except Exception as exc:  # limits raises its own errors for unknown schemes
        raise ConfigurationError(f"setting ratelimit.storage_url: {exc}") from None
    config.registry.registerUtility(limiter, IRateLimiter)
    config.add_subscriber(check_rate_limit, ContextFound)

    def warn_about_unknown_routes(event: ApplicationCreated) -> None:
        mapper = event.app.registry.queryUtility(IRoutesMapper)
        known = {route.name for route in mapper.get_routes()} if mapper else set()
        for name in sorted(set(rules) - known):
            log.warning("ratelimit.rules names route %s, which no enabled feature has", name)

    # Once the app exists, so that the plugins' routes are there too.
    config.add_subscriber(warn_about_unknown_routes, ApplicationCreated)
