"""Secrets and signatures never reach a log line or an error body.

Redaction happens where log records are made: ``install_log_redaction`` wraps the
process's log record factory, so every record from any logger (ours, waitress,
pyramid, SQLAlchemy, a host app's) is cleaned before any handler sees it, including
handlers added later such as pytest's ``caplog``. A filter on our own handlers would
miss records that other code logs through handlers it configures itself.

What is removed:

- the values of the secrets this process was configured with (API key secret, webhook
  secrets, JWT secret), wherever they appear;
- JSON Web Tokens and ``Bearer``/``Basic`` credentials;
- values of fields and headers that carry credentials or signatures
  (``Authorization``, ``X-Razorpay-Signature``, ``razorpay_signature``, ``key_secret``,
  ``password``, ...), in ``name: value``, ``name=value`` and JSON forms;
- 64-digit hex strings: HMAC-SHA256 signatures look exactly like that.

Control characters a request can smuggle into a message (a NUL or a carriage return in
a path) are escaped (``\\x00``) in the same place, so no raw NUL reaches a log line.
"""

from __future__ import annotations

import logging
import re
import threading
from collections.abc import Iterable

from ..storable import printable

REDACTED = "[REDACTED]"

_SENSITIVE_NAMES = (
    r"x[-_]razorpay[-_]signature|razorpay_signature|razorpaySignature|signature"
    r"|authorization|proxy[-_]authorization|cookie|set[-_]cookie"
    r"|key_secret|keySecret|client_secret|webhook_secret|jwt[-_.]secret|secret"
    r"|password|passwd|token|api[-_]key"
)

# What a value looks like wherever it appears: JWTs and HMAC-SHA256 hex digests.
_VALUE_PATTERNS: tuple[tuple[re.Pattern[str], str], ...] = (
    # A JWT: three base64url segments, the first a JSON header ("eyJ").
    (re.compile(r"\beyJ[A-Za-z0-9_-]{4,}\.[A-Za-z0-9_-]{4,}\.[A-Za-z0-9_-]*"), REDACTED),
    # An HMAC-SHA256 in hex, the shape of every Razorpay signature.
    (re.compile(r"(?i)(?<![0-9a-f])[0-9a-f]{64}(?![0-9a-f])"), REDACTED),
)

_PATTERNS: tuple[tuple[re.Pattern[str], str], ...] = _VALUE_PATTERNS + (
    # HTTP credentials after their scheme (8+ characters: "bearer token" is prose).
    (re.compile(r"(?i)\b(bearer|basic)\s+[A-Za-z0-9._~+/=-]{8,}"), r"\1 " + REDACTED),
    # name: value, name=value, "name": "value", 'name': 'value'.
    (re.compile(
        r"(?i)([\"']?\b(?:" + _SENSITIVE_NAMES + r")\b[\"']?\s*[:=]\s*[\"']?)"
        r"(?!\[REDACTED\])(?!(?:bearer|basic)\s)([^\"'\s,&;}\]\)]+)"
    ), r"\1" + REDACTED),
)

_SENSITIVE_NAME = re.compile(r"(?i)(?:" + _SENSITIVE_NAMES + r")")


def is_sensitive_name(name: str) -> bool:
    """True for a header or field name whose value is a credential or a signature
    (``X-Razorpay-Signature``, ``Authorization``, ``webhook_secret``...)."""
    return _SENSITIVE_NAME.search(name) is not None


_lock = threading.Lock()
_secrets: frozenset[str] = frozenset()

# Shorter values are not secrets worth the false positives (and are refused anyway).
MIN_SECRET_LENGTH = 8


def register_secrets(values: Iterable[str | None]) -> None:
    """Add configured secret values to what is removed from every log line."""
    global _secrets
    new = {v for v in values if isinstance(v, str) and len(v) >= MIN_SECRET_LENGTH}
    with _lock:
        _secrets = _secrets | new


def redact(text: str, *, by_field_name: bool = True) -> str:
    """``text`` with every secret, token and signature replaced by ``[REDACTED]``.

    ``by_field_name=False`` removes only values that look secret (configured secrets,
    JWTs, signatures) and leaves ``name: value`` text alone: an error body's
    ``{"razorpay_signature": "must be a string"}`` names a field, it does not leak one.
    """
    # Longest first, so a secret that contains another is removed whole.
    for secret in sorted(_secrets, key=len, reverse=True):
        if secret in text:
            text = text.replace(secret, REDACTED)
    for pattern, replacement in _PATTERNS if by_field_name else _VALUE_PATTERNS:
        text = pattern.sub(replacement, text)
    return text


def redact_record(record: logging.LogRecord) -> logging.LogRecord:
    """Clean a record in place; its template and args stay as they were if clean."""
    try:
        message = record.getMessage()
    except Exception:  # a broken format string: logging reports it later, as usual
        return record
    cleaned = printable(redact(message))
    if cleaned != message:
        record.msg, record.args = cleaned, None
    if record.exc_info and not record.exc_text:
        record.exc_text = printable(
            redact(logging.Formatter().formatException(record.exc_info)))
    elif record.exc_text:
        record.exc_text = printable(redact(record.exc_text))
    if record.stack_info:
        record.stack_info = redact(record.stack_info)
    return record


class RedactingFilter(logging.Filter):
    """The same cleaning as a filter, for handlers configured outside the app."""

    def filter(self, record: logging.LogRecord) -> bool:
        redact_record(record)
        return True


def install_log_redaction() -> None:
    """Wrap the log record factory once per process (idempotent)."""
    with _lock:
        current = logging.getLogRecordFactory()
        if getattr(current, "_banter_redacting", False):
            return

        def factory(*args, **kwargs) -> logging.LogRecord:
            return redact_record(current(*args, **kwargs))

        factory._banter_redacting = True  # type: ignore[attr-defined]
        logging.setLogRecordFactory(factory)
