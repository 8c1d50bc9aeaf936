"""The hardening tween: the outermost layer of every request.

It sits above the idempotency tween and pyramid_tm, so that a refused body never
claims an idempotency key or opens a transaction, and so that every answer (a replayed
one, a 413, an error rendered by an exception view) leaves with the same headers. A
database that is down when the idempotency tween claims a key, or when pyramid_tm
commits, raises outside the exception views; it is answered 503 here, as inside them.
"""

from __future__ import annotations

import pyramid_retry
from pyramid.request import Request
from pyramid.response import Response

from ..errors import (
    DATABASE_UNAVAILABLE,
    PayloadTooLarge,
    database_unavailable_response,
    error_response,
)
from .bodylimit import check_body
from .headers import (
    add_cors_headers,
    add_security_headers,
    add_vary_origin,
    allowed_origin,
    is_preflight,
    normalize_origin,
    preflight_response,
)
from .redaction import redact

TWEEN = "banter_payments.http.tweens.hardening_tween_factory"


def hardening_tween_factory(handler, registry):
    settings = registry.settings
    limit = settings["banter_payments.max_body_bytes"]
    https = settings["banter_payments.https"]
    origins = frozenset(normalize_origin(o) for o in settings["cors.allowed_origins"])
    max_age = settings["cors.max_age_seconds"]

    def hardening_tween(request: Request) -> Response:
        origin = allowed_origin(request, origins)
        if origin is not None and is_preflight(request):
            response = preflight_response(request, origin, max_age)
        elif check_body(request.environ, limit):
            error = PayloadTooLarge(details={"limit": limit})
            response = error_response(request, error.status, error.code, error.message,
                                      error.details)
        else:
            try:
                response = handler(request)
            except DATABASE_UNAVAILABLE as exc:
                if pyramid_retry.is_error_retryable(request, exc):
                    raise  # a serialization failure: pyramid_retry replays the request
                response = database_unavailable_response(request, exc)
            if response.status_code >= 400:
                _redact_body(response)
        add_security_headers(response, https=https)
        if origin is not None:
            add_cors_headers(response, origin)
        elif origins:
            add_vary_origin(response)
        return response

    return hardening_tween


def _redact_body(response: Response) -> None:
    """An error body never repeats a secret or a signature, whoever wrote it."""
    if not (response.content_type or "").endswith("json"):
        return
    body = response.body
    try:
        text = body.decode("utf-8")
    except UnicodeDecodeError:
        return
    cleaned = redact(text, by_field_name=False)
    if cleaned != text:
        response.body = cleaned.encode("utf-8")
