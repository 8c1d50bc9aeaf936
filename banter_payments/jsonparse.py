"""Parsing JSON that strangers send, without surprises.

``json.loads`` as it comes accepts ``NaN`` and ``Infinity`` (which no JSON column can
store) and raises ``RecursionError``, not ``ValueError``, for an array nested a thousand
deep, which would turn a malformed body into a 500. Every request body the service reads
goes through ``parse_json``, which fails only with ``InvalidJSON``.
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
        return json.loads(text, parse_constant=_reject_constant)
    except RecursionError:
        raise InvalidJSON("the document is nested too deeply") from None
    except (UnicodeDecodeError, ValueError) as exc:
        raise InvalidJSON(str(exc)) from None
