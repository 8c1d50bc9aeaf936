"""Who may read ``/metrics``: a client address in ``metrics.allow`` (addresses or
networks) or a caller presenting ``metrics.bearer_token``.

Defaults: loopback in development; nobody in production until one of the two settings
is given, so the exposition is never public by accident.
"""

from __future__ import annotations

import hmac
import ipaddress

from pyramid.exceptions import ConfigurationError

DEVELOPMENT_ALLOW = ["127.0.0.1", "::1"]


def allowed_networks(settings) -> list[ipaddress.IPv4Network | ipaddress.IPv6Network]:
    allow = settings["metrics.allow"]
    if allow is None:
        development = settings["banter_payments.environment"] == "development"
        allow = DEVELOPMENT_ALLOW if development else []
    networks = []
    for entry in allow:
        try:
            networks.append(ipaddress.ip_network(entry, strict=False))
        except ValueError:
            raise ConfigurationError(
                f"setting metrics.allow: {entry!r} is not an address or network") from None
    return networks


def may_scrape(request, networks, token: str | None) -> bool:
    if token:
        header = request.headers.get("Authorization", "")
        if header.startswith("Bearer ") and hmac.compare_digest(
                header[len("Bearer "):].encode(), token.encode()):
            return True
    try:
        address = ipaddress.ip_address(request.remote_addr or "")
    except ValueError:
        return False
    return any(address in network for network in networks)
