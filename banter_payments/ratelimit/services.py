"""The rate limiter: the ``limits`` library over memory or Redis storage.

``memory://`` counts in this process only (the embedded single-process default);
several app processes must share a Redis (``redis://host:6379/0``) so that a user's
budget is one budget whichever process answers. If the storage cannot be reached the
request is let through and a warning is logged: a Redis outage must not stop payments.
"""

from __future__ import annotations

import logging
import math
import time
from dataclasses import dataclass

from limits import RateLimitItem, storage, strategies
from zope.interface import Attribute, Interface, implementer

log = logging.getLogger(__name__)

STRATEGIES = {
    "fixed-window": strategies.FixedWindowRateLimiter,
    "moving-window": strategies.MovingWindowRateLimiter,
    "sliding-window-counter": strategies.SlidingWindowCounterRateLimiter,
}


@dataclass(frozen=True)
class Verdict:
    allowed: bool
    limit: RateLimitItem | None = None
    retry_after: int = 0


class IRateLimiter(Interface):
    rules = Attribute("{route_name: [RateLimitItem]}")

    def hit(route_name, caller):
        """Count one request of ``caller`` on ``route_name``; return a ``Verdict``."""


@implementer(IRateLimiter)
class RateLimiter:
    def __init__(self, storage_url: str, strategy: str,
                 rules: dict[str, list[RateLimitItem]]):
        self.rules = rules
        self.storage = storage.storage_from_string(storage_url)
        self.limiter = STRATEGIES[strategy](self.storage)

    def hit(self, route_name: str, caller: str) -> Verdict:
        items = self.rules.get(route_name)
        if not items:
            return Verdict(True)
        try:
            for item in items:
                if not self.limiter.hit(item, route_name, caller):
                    return Verdict(False, item, self._retry_after(item, route_name, caller))
        except Exception:  # the storage is down or misbehaving: fail open, loudly
            log.warning("rate limit storage failed; letting %s through", route_name,
                        exc_info=True)
        return Verdict(True)

    def _retry_after(self, item: RateLimitItem, route_name: str, caller: str) -> int:
        reset_time = self.limiter.get_window_stats(item, route_name, caller).reset_time
        return max(1, math.ceil(reset_time - time.time()))
