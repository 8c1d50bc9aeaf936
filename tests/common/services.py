"""Services of the machine that some tests need (Redis), and what to do when one is down.

Locally a test that needs Redis skips when Redis is not running, saying so. CI starts the
service first and sets ``REQUIRE_SERVICES=1`` (``.ci/run``): there an unreachable service
fails the test, so a proof can never be skipped silently.
"""

from __future__ import annotations

import os

import pytest

REDIS_URL = os.environ.get("TEST_REDIS_URL", "redis://127.0.0.1:6379/0")


def redis_reachable(url: str = REDIS_URL) -> bool:
    import redis

    try:
        return bool(redis.Redis.from_url(url, socket_timeout=1).ping())
    except redis.RedisError:
        return False


def require_redis(url: str = REDIS_URL) -> str:
    """``url`` when Redis answers there; otherwise skip (locally) or fail (CI)."""
    if redis_reachable(url):
        return url
    message = f"Redis is not reachable at {url}"
    if os.environ.get("REQUIRE_SERVICES"):
        pytest.fail(f"{message}, and REQUIRE_SERVICES is set (CI)")
    pytest.skip(message)
