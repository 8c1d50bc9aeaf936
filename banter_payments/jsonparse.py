"""Parsing JSON that strangers send, without surprises.

``json.loads`` as it comes accepts ``NaN`` and ``Infinity`` (which no JSON column can
store) and strings with lone surrogates (which no driver can encode), and raises
``RecursionError``, not ``ValueError``, for an array nested a thousand deep, which would
turn a malformed body into a 500. Every request body the service reads goes through
``parse_json``, which fails only with ``InvalidJSON``.
"""

from __future__ import annotations

import json
from typing import Any


class InvalidJSON(ValueError):
    """The bytes are not a JSON document this service accepts."""


def _reject_constant(name: str) -> Any:
    raise InvalidJSON(f"{name} is not JSON")


def parse_json(raw: bytes | str) -> Any:
    try:
        text = raw.decode("utf-8") if isinstance(raw, bytes) else raw
        document = json.loads(text, parse_constant=_reject_constant)
    except RecursionError:
        raise InvalidJSON("the document is nested too deeply") from None
    except (UnicodeDecodeError, ValueError) as exc:
        raise InvalidJSON(str(exc)) from None
    _check_unicode(document)
    return document


def _check_unicode(document: Any) -> None:
    """JSON's ``\\ud800`` escapes can spell lone surrogates, which are not text: no
    database driver can encode them. Refuse them here rather than fail at the INSERT."""
    stack = [document]
    while stack:
        value = stack.pop()
        if isinstance(value, str):
            try:
                value.encode("utf-8")
            except UnicodeEncodeError:
                raise InvalidJSON("a string is not valid Unicode (a lone surrogate)") from None
        elif isinstance(value, dict):
            stack.extend(value.keys())
            stack.extend(value.values())
        elif isinstance(value, list):
            stack.extend(value)
