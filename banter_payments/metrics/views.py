"""``GET /metrics`` (Prometheus) and ``GET /admin/metrics`` (the operators' report)."""

from __future__ import annotations

import datetime as dt
from typing import Any

from prometheus_client import CONTENT_TYPE_LATEST
from pyramid.request import Request
from pyramid.response import Response
from pyramid.security import NO_PERMISSION_REQUIRED
from pyramid.view import view_config

from ..clock import isoformat, utcnow
from ..errors import error_response
from .access import may_scrape
from .prometheus import exposition
from .schemas import span_problem
from .services import Window, report

DEFAULT_SPAN = dt.timedelta(hours=1 * 24)


@view_config(route_name="payments.metrics.prometheus", request_method="GET",
             permission=NO_PERMISSION_REQUIRED)
def prometheus_metrics(request: Request) -> Response:
    registry = request.registry
    if not may_scrape(request, registry["banter_payments.metrics.allow"],
                      registry.settings["metrics.bearer_token"]):
        return error_response(request, 403, "forbidden",
                              "This address may not read the metrics.")
    request.validated_query  # noqa: B018 - no parameters are accepted
    _writer, reader = registry["banter_payments.session_factories"]
    response = Response(body=exposition(reader, registry))
    response.headers["Content-Type"] = CONTENT_TYPE_LATEST
    response.cache_control = "no-store"
    return response


def _jsonable(value: Any) -> Any:
    if isinstance(value, dt.datetime):
        return isoformat(value)
    if isinstance(value, dict):
        return {k: _jsonable(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_jsonable(v) for v in value]
    return value


@view_config(route_name="payments.metrics.admin", request_method="GET", renderer="json",
             permission="admin")
def admin_metrics(request: Request) -> dict[str, Any]:
    query = request.validated_query
    end = query["to"] or utcnow()
    start = query["from"] or end - DEFAULT_SPAN
    problem = span_problem(start, end, query["bucket"])
    if problem:
        return error_response(request, 400, "validation_failed", "The query is not valid.",
                              {"to": problem})
    return _jsonable(report(request.dbsession, Window(start, end, query["bucket"])))
