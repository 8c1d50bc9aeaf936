"""Razorpay's webhook signature: hex HMAC-SHA256 of the raw body with the webhook secret.

Always over the bytes as they arrived: parsing and re-serializing the JSON would change
spacing, key order or escapes and break the signature for a genuine event (and the SDK's
helper refuses ``bytes``). During a secret rotation several secrets are configured
(``razorpay.webhook_secrets``) and a delivery signed with any of them is accepted.
"""

from __future__ import annotations

import hashlib
import hmac
from collections.abc import Iterable

# A SHA-256 hex digest; anything longer is refused before any HMAC is computed.
SIGNATURE_LENGTH = 64


def sign(body: bytes, secret: str) -> str:
    return hmac.new(secret.encode("utf-8"), body, hashlib.sha256).hexdigest()


def signature_matches(body: bytes, signature: str | None, secrets: Iterable[str]) -> bool:
    """True when ``signature`` is the HMAC of ``body`` under one of ``secrets``.

    Each comparison is constant-time (``hmac.compare_digest`` over bytes), and every
    secret is tried even after a match, so timing reveals neither the signature nor which
    secret signed it.
    """
    if not signature:
        return False
    provided = signature.strip().lower().encode("latin-1", errors="replace")
    if len(provided) != SIGNATURE_LENGTH:
        return False
    matched = False
    for secret in secrets:
        expected = sign(body, secret).encode("ascii")
        matched |= hmac.compare_digest(expected, provided)
    return matched
