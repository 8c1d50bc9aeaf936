"""Opaque keyset cursors for history pages.

A cursor names the last entry of a page (url-safe base64 of ``e<id>``). It is not
signed: the query that uses it is always limited to the caller's own accounts, so a
forged cursor can only start the caller's own history somewhere else. It is validated
strictly: anything this module did not produce is a 400, never a 500.
"""

from __future__ import annotations

import base64
import binascii
import re

from ..errors import ValidationFailed

_PAYLOAD = re.compile(r"e([1-9][0-9]{0,18})")
_ENCODED = re.compile(r"[A-Za-z0-9_-]{2,32}")
MAX_ID = 2**63 - 1  # a 64-bit key


def encode_cursor(entry_id: int) -> str:
    raw = f"e{entry_id}".encode("ascii")
    return base64.urlsafe_b64encode(raw).decode("ascii").rstrip("=")


def decode_cursor(cursor: str) -> int:
    """The entry id in ``cursor``; ``ValidationFailed`` for anything malformed."""
    if not isinstance(cursor, str) or not _ENCODED.fullmatch(cursor):
        raise _malformed()
    try:
        raw = base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4)).decode("ascii")
    except (binascii.Error, ValueError):
        raise _malformed() from None
    match = _PAYLOAD.fullmatch(raw)
    if match is None or encode_cursor(int(match.group(1))) != cursor:
        raise _malformed()
    entry_id = int(match.group(1))
    if entry_id > MAX_ID:
        raise _malformed()
    return entry_id


def _malformed() -> ValidationFailed:
    return ValidationFailed(details={"cursor": "is not a cursor this API issued"})
