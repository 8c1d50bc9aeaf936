"""A body over ``banter_payments.max_body_bytes`` is refused (413) before it is read.

pyramid_retry copies every request body before the first attempt, so that a retried
attempt can read it again; that copy happens before any tween runs. So the check runs
twice:

- as pyramid_retry's ``retry.activate_hook``, which it calls before copying: a body
  declared too large (``Content-Length``) is marked and the request gets one attempt,
  so nothing copies it; a chunked body (no ``Content-Length``) is read up to one byte
  past the limit, marked if it is longer, else replaced by what was read;
- in the hardening tween, which answers 413 for a marked request, and does the same
  checks itself when pyramid_retry is not active (a host app without it).
"""

from __future__ import annotations

import io
from collections.abc import Callable
from typing import Any

from pyramid.request import Request

TOO_LARGE = "banter_payments.body_too_large"
CHECKED = "banter_payments.body_checked"


def _declared_length(environ: dict) -> int | None:
    value = environ.get("CONTENT_LENGTH")
    if value in (None, ""):
        return None
    try:
        return int(value)
    except ValueError:
        return None


def _is_chunked(environ: dict) -> bool:
    return "chunked" in environ.get("HTTP_TRANSFER_ENCODING", "").lower()


def check_body(environ: dict, limit: int) -> bool:
    """Mark ``environ`` if its body exceeds ``limit``; True when it does.

    Reads at most ``limit + 1`` bytes, and only for a chunked body.
    """
    if environ.get(CHECKED):
        return bool(environ.get(TOO_LARGE))
    environ[CHECKED] = True
    length = _declared_length(environ)
    if length is not None:
        too_large = length > limit
    elif _is_chunked(environ) and environ.get("wsgi.input_terminated"):
        data = environ["wsgi.input"].read(limit + 1)
        too_large = len(data) > limit
        if not too_large:
            environ["wsgi.input"] = io.BytesIO(data)
            environ["CONTENT_LENGTH"] = str(len(data))
            environ.pop("HTTP_TRANSFER_ENCODING", None)
    else:
        too_large = False
    if too_large:
        environ[TOO_LARGE] = True
    return too_large


def make_activate_hook(previous: Callable[[Request], Any] | None):
    """pyramid_retry's activate hook: check the body first, then ask ``previous``."""

    def activate_hook(request: Request) -> int | None:
        limit = request.registry.settings["banter_payments.max_body_bytes"]
        if check_body(request.environ, limit):
            return 1  # one attempt: pyramid_retry then leaves the body unread
        return previous(request) if previous is not None else None

    activate_hook.banter_body_limit = True  # type: ignore[attr-defined]
    return activate_hook
