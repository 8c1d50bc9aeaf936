"""One access-log line per request: method, route name, status, duration, request id.

Logged at INFO by ``banter_payments.access`` (WARNING for a 5xx), 4xx answers included,
with the error code of an error answer, so an operator sees every refusal, not only the
failures. The route name (``payments.orders.show``), not the path, says what was asked:
it carries no ids or query values a stranger typed, and the log redaction escapes any
control character anyway.

The request id is the caller's ``X-Request-Id`` when it is a plain token (a load balancer
or a client sets one), else a new one; it is sent back in ``X-Request-Id`` and readable as
``request.environ["banter_payments.request_id"]``.
"""

from __future__ import annotations

import json
import logging
import re
import time

from pyramid.request import Request
from pyramid.response import Response

from ..ids import new_id
from ..storable import printable

TWEEN = "banter_payments.http.accesslog.access_log_tween_factory"
REQUEST_ID_HEADER = "X-Request-Id"
REQUEST_ID_KEY = "banter_payments.request_id"
_USABLE_ID = re.compile(r"[A-Za-z0-9._:-]{1,64}")

log = logging.getLogger("banter_payments.access")


def request_id(request: Request) -> str:
    given = request.headers.get(REQUEST_ID_HEADER, "")
    return given if _USABLE_ID.fullmatch(given) else new_id("req")


def _error_code(response: Response) -> str | None:
    if response.status_code < 400 or not (response.content_type or "").endswith("json"):
        return None
    try:
        error = json.loads(response.body).get("error")
        return printable(error.get("code"))[:64] if isinstance(error, dict) else None
    except (ValueError, AttributeError, TypeError):
        return None


def access_log_tween_factory(handler, registry):
    def access_log_tween(request: Request) -> Response:
        started = time.perf_counter()
        rid = request.environ.setdefault(REQUEST_ID_KEY, request_id(request))
        status, code = 500, "unhandled"
        try:
            response = handler(request)
            status, code = response.status_code, _error_code(response)
            response.headers[REQUEST_ID_HEADER] = rid
            return response
        finally:
            route = request.matched_route.name if request.matched_route else "-"
            millis = (time.perf_counter() - started) * 1000
            log.log(logging.WARNING if status >= 500 else logging.INFO,
                    "%s %s %d %.1fms %s%s", printable(request.method)[:16], route, status,
                    millis, rid, f" {code}" if code else "")

    return access_log_tween
