"""The one rule for untrusted text that may reach the database or a log line.

PostgreSQL's ``text`` cannot hold NUL (psycopg refuses the parameter with ``DataError``),
SQLite stores it, and no driver can encode a lone surrogate. Text that behaved one way on
the embedded database and another in production is how a delivery ended up failing with
503 forever on PostgreSQL while SQLite accepted it. So untrusted text is made storable
here, the same way whatever the database:

- where we may refuse (a path id, a query value, a request field), text that is not
  ``is_storable`` is refused at the edge (404 or 400);
- where we may not (the signed payload of a Razorpay event, which is what it is), every
  string is normalised by ``storable_text``: NUL and lone surrogates become U+FFFD, and
  an id that contained one then matches nothing, on every database alike.
"""

from __future__ import annotations

import re
from typing import Any, TypeVar

REPLACEMENT = "\ufffd"
# NUL, and the surrogate code points (a str holds them only when unpaired).
_UNSTORABLE = re.compile("[\x00\ud800-\udfff]")
# Control characters other than tab and newline: never echoed raw into a log line.
_CONTROL = re.compile(r"[\x00-\x08\x0b-\x1f\x7f]")

T = TypeVar("T")


def is_storable(value: str) -> bool:
    """True when every database we support stores ``value`` as it is."""
    return _UNSTORABLE.search(value) is None


def storable_text(value: str | None, limit: int | None = None) -> str | None:
    """``value`` with NUL and lone surrogates replaced by U+FFFD, cut to ``limit``."""
    if value is None:
        return None
    value = _UNSTORABLE.sub(REPLACEMENT, value)
    return value if limit is None else value[:limit]


def storable_document(document: T) -> T:
    """A parsed JSON document with ``storable_text`` applied to every key and string."""
    if isinstance(document, str):
        return storable_text(document)  # type: ignore[return-value]
    if isinstance(document, dict):
        return {storable_text(key) if isinstance(key, str) else key: storable_document(value)
                for key, value in document.items()}  # type: ignore[return-value]
    if isinstance(document, list):
        return [storable_document(value) for value in document]  # type: ignore[return-value]
    return document


def printable(value: Any) -> str:
    """``value`` as text fit for one log line: control characters (NUL, CR, ESC...)
    escaped as ``\\xNN``, so a request cannot forge or break a log line."""
    text = value if isinstance(value, str) else str(value)
    return _CONTROL.sub(lambda m: f"\\x{ord(m.group()):02x}", text)
