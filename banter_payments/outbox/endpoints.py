"""``outbox.endpoints``: the receivers, read from the ini with their secrets from the
environment.

One endpoint per line::

    outbox.endpoints =
        jobs  https://jobs.internal/hooks/payments  JOBS_WEBHOOK_SECRET  order.paid payment.failed

name, URL, the *name* of the environment variable holding the signing secret (a Standard
Webhooks secret, ``whsec_`` + base64; never the secret itself, so it stays out of the
ini), then the topics the endpoint wants. Only these URLs are ever called. Anything
wrong stops start-up with a ``ConfigurationError`` naming the endpoint.
"""

from __future__ import annotations

import base64
import binascii
import re
from collections.abc import Iterable, Mapping
from urllib.parse import urlsplit

from pyramid.exceptions import ConfigurationError

from .interfaces import Endpoint

NAME = re.compile(r"[a-z0-9][a-z0-9_\-]{0,63}\Z")
ENV_NAME = re.compile(r"[A-Z_][A-Z0-9_]{0,127}\Z")
TOPIC = re.compile(r"[a-z][a-z0-9_]*(\.[a-z][a-z0-9_]*)+\Z")


def parse_endpoints(lines: Iterable[str], environ: Mapping[str, str]) -> dict[str, Endpoint]:
    endpoints: dict[str, Endpoint] = {}
    for line in lines:
        endpoint = parse_endpoint(line, environ)
        if endpoint.name in endpoints:
            raise ConfigurationError(
                f"setting outbox.endpoints: endpoint {endpoint.name!r} is listed twice")
        endpoints[endpoint.name] = endpoint
    return endpoints


def parse_endpoint(line: str, environ: Mapping[str, str]) -> Endpoint:
    parts = line.split()
    where = f"setting outbox.endpoints, line {line!r}"
    if len(parts) < 4:
        raise ConfigurationError(f"{where}: expected <name> <url> <SECRET_ENV> <topic>...")
    name, url, env_name, *topics = parts
    if not NAME.match(name):
        raise ConfigurationError(f"{where}: the name must be lowercase letters, digits, "
                                 f"'-' or '_'")
    check_url(url, where)
    if not ENV_NAME.match(env_name):
        raise ConfigurationError(f"{where}: {env_name!r} is not an environment variable "
                                 f"name (the secret itself never goes in the ini)")
    secret = environ.get(env_name, "").strip()
    if not secret:
        raise ConfigurationError(f"{where}: ${env_name} (the endpoint's signing secret) "
                                 f"is not set")
    check_secret(secret, f"{where}: ${env_name}")
    for topic in topics:
        if not TOPIC.match(topic):
            raise ConfigurationError(f"{where}: {topic!r} is not a topic (like order.paid)")
    return Endpoint(name=name, channel="http", target=url, topics=frozenset(topics),
                    secret=secret)


def check_url(url: str, where: str) -> None:
    try:
        parts = urlsplit(url)
    except ValueError:
        parts = None
    if parts is None or parts.scheme not in ("http", "https") or not parts.hostname \
            or parts.username or parts.password or parts.fragment:
        raise ConfigurationError(f"{where}: {url!r} is not an http(s) URL without "
                                 f"credentials or fragment")


def check_secret(secret: str, where: str) -> None:
    if not secret.startswith("whsec_"):
        raise ConfigurationError(f"{where} must be a Standard Webhooks secret "
                                 f"(whsec_ followed by base64)")
    body = secret[len("whsec_"):]
    try:
        key = base64.b64decode(body + "=" * (-len(body) % 4), validate=True)
    except (binascii.Error, ValueError):
        raise ConfigurationError(f"{where} is not valid base64 after whsec_") from None
    if len(key) < 24:
        raise ConfigurationError(f"{where} must hold at least 24 random bytes")
