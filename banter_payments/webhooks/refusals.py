"""Unsigned deliveries: counted, sampled, never stored one row per request.

Anyone can POST to the webhook route, so a forged delivery must not cost us a row each:
that table would grow with the attacker's traffic. What an operator needs is how many
came, why they were refused, and from where, plus a few to look at. So each one adds 1
to a counter row keyed by (day, reason, sender network), and only the first
``webhooks.refused_sample_per_source`` of each such row are kept as full (truncated)
deliveries. A day has at most ``webhooks.refused_sources_per_day`` networks; the rest
are counted under ``other``, so even traffic from many addresses adds a bounded number
of rows, and ``banter-cleanup-webhooks`` removes days past ``webhooks.retention_days``.
"""

from __future__ import annotations

import ipaddress

import sqlalchemy as sa
from sqlalchemy.orm import Session

from ..clock import utcnow
from ..db import upsert
from .models import WebhookRefusal

OTHER_SOURCES = "other"
_refusals = WebhookRefusal.__table__


def refusal_reason(signature: str | None) -> str:
    return "signature_missing" if not signature else "signature_invalid"


def sender_network(address: str | None) -> str:
    """The network a sender is counted under: IPv4 /24, IPv6 /48."""
    try:
        ip = ipaddress.ip_address((address or "").strip())
    except ValueError:
        return "unknown"
    prefix = 24 if ip.version == 4 else 48
    return str(ipaddress.ip_network(f"{ip}/{prefix}", strict=False))


def _count(session: Session, day, reason: str, source: str, now) -> int:
    return upsert(session, _refusals,
                  {"day": day, "reason": reason, "source": source, "count": 1,
                   "first_seen_at": now, "last_seen_at": now},
                  ["day", "reason", "source"],
                  {"count": _refusals.c.count + 1, "last_seen_at": now},
                  returning=_refusals.c.count)


def record_refusal(session: Session, settings, *, reason: str, address: str | None) -> bool:
    """Count one unsigned delivery; True when it should also be kept in the sample."""
    now = utcnow()
    day = now.date()
    source = sender_network(address)
    count = _count(session, day, reason, source, now)
    if count == 1 and source != OTHER_SOURCES:
        # A network new today: within the day's cap, or folded into "other".
        networks = session.scalar(sa.select(sa.func.count()).select_from(_refusals)
                                  .where(_refusals.c.day == day))
        if networks > settings["webhooks.refused_sources_per_day"]:
            session.execute(sa.delete(_refusals).where(
                _refusals.c.day == day, _refusals.c.reason == reason,
                _refusals.c.source == source))
            _count(session, day, reason, OTHER_SOURCES, now)
            return False
    return source != OTHER_SOURCES and count <= settings["webhooks.refused_sample_per_source"]
