"""Opaque keyset cursors over our time-ordered string ids (``ord_01J...``).

A list's ``nextCursor`` names the last item of a page; the next page is everything with a
smaller id. Cursors are url-safe base64 so clients treat them as opaque, and decoding is
strict: anything this module did not produce is a 400, never a 500. (The ledger's
history, keyed by a 64-bit entry id, has its own in ``ledger.cursors``.)
"""

from __future__ import annotations

import base64
import binascii
import re
from collections.abc import Callable, Sequence
from typing import Any, TypeVar

from .errors import ValidationFailed

T = TypeVar("T")

_ID_BODY = re.compile(r"[0-9A-Z]{26}")


def encode_cursor(item_id: str) -> str:
    return base64.urlsafe_b64encode(item_id.encode("ascii")).decode("ascii").rstrip("=")


def decode_cursor(cursor: str, prefix: str) -> str:
    """The id in ``cursor``, which must be one of ours starting ``<prefix>_``."""
    try:
        padded = cursor + "=" * (-len(cursor) % 4)
        value = base64.urlsafe_b64decode(padded.encode("ascii")).decode("ascii")
    except (binascii.Error, UnicodeError, ValueError):
        value = ""
    head, _, body = value.partition("_")
    if head != prefix or not _ID_BODY.fullmatch(body):
        raise ValidationFailed(details={"cursor": "is not a cursor this API issued"})
    return value


def page(rows: Sequence[T], limit: int,
         key: Callable[[T], Any] = lambda row: row.id) -> tuple[list[T], str | None]:
    """Cut ``limit + 1`` fetched rows to a page and the cursor to the next one."""
    items = list(rows[:limit])
    return items, encode_cursor(key(items[-1])) if len(rows) > limit else None
