"""Counting a request against its route's limits, once routing has named the route.

This runs on ``ContextFound`` (after the route matched, before the view and its
permission check), inside the request's transaction but touching no database; a 429
raised here renders through the exception views like any other API error.

pyramid_retry replays a request that lost a database race with the same environ;
the environ remembers that this request was counted, so a retried attempt is not
counted twice.
"""

from __future__ import annotations

from pyramid.events import ContextFound

from ..errors import RateLimited
from .services import IRateLimiter

COUNTED = "banter_payments.ratelimit.counted"


def caller_of(request) -> str:
    """The budget a request spends: its user's, or its address's when anonymous."""
    user_id = request.authenticated_userid
    if user_id:
        return f"user:{user_id}"
    return f"ip:{request.client_addr or 'unknown'}"


def check_rate_limit(event: ContextFound) -> None:
    request = event.request
    route = request.matched_route
    if route is None or request.environ.get(COUNTED):
        return
    limiter = request.registry.getUtility(IRateLimiter)
    if route.name not in limiter.rules:
        return
    identity = request.identity
    exempt = request.registry.settings["ratelimit.exempt_roles"]
    if identity is not None and any(role in identity.roles for role in exempt):
        return
    request.environ[COUNTED] = True
    verdict = limiter.hit(route.name, caller_of(request))
    if not verdict.allowed:
        raise RateLimited(
            details={"limit": str(verdict.limit), "retryAfter": verdict.retry_after},
            headers={"Retry-After": str(verdict.retry_after)},
        )
