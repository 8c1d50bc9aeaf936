"""REST plumbing: one directive declares an operation, and that declaration is used twice.

``config.add_api_operation(route_name, method, ...)`` records, for one route and method,
its summary, who may call it, and the colander schemas of its body and query. Views read
their input through ``request.validated_body`` / ``request.validated_query``, which look the
schemas up from the same record, and ``GET /openapi.json`` is built from the same records
and the routes actually registered (``banter_payments.openapi``). A schema therefore
cannot say one thing in the document and another in the view, and a disabled plugin's
routes vanish from both.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import colander
from pyramid.httpexceptions import HTTPNotFound
from pyramid.interfaces import IRoutesMapper
from pyramid.request import Request
from pyramid.response import Response

from .errors import (
    MethodNotAllowed,
    NotFound,
    UnsupportedMediaType,
    ValidationFailed,
    error_response,
)
from .jsonparse import InvalidJSON, parse_json
from .schemas import validate

OPERATIONS_KEY = "banter_payments.api_operations"


@dataclass(frozen=True)
class BodyVariants:
    """One route, several body shapes chosen by who calls (``POST /orders`` takes a sku
    from a user and an amount from a service). ``select(request)`` names the variant."""

    variants: dict[str, colander.SchemaNode]
    select: Any

    def schema_for(self, request: Request) -> colander.SchemaNode:
        return self.variants[self.select(request)]


@dataclass(frozen=True)
class Operation:
    route_name: str
    method: str
    summary: str
    tag: str
    permission: str | None = None
    body: colander.SchemaNode | None = None
    query: colander.SchemaNode | None = None
    responses: dict[int, str] = field(default_factory=dict)
    response_schema: dict[str, Any] | None = None
    # The documented path, when it is one path under a route that matches many (the
    # mounted sandbox); None: the route's own pattern.
    path: str | None = None


def add_api_operation(config, route_name: str, method: str, *, summary: str, tag: str,
                      permission: str | None = None, body=None, query=None,
                      responses: dict[int, str] | None = None,
                      response_schema: dict[str, Any] | None = None,
                      path: str | None = None) -> None:
    method = method.upper()
    if path is not None:
        path = "/" + "/".join(p.strip("/") for p in (config.route_prefix or "", path)
                              if p.strip("/"))
    operation = Operation(
        route_name=route_name, method=method, summary=summary, tag=tag,
        permission=permission,
        body=body() if isinstance(body, type) else body,
        query=query() if isinstance(query, type) else query,
        responses=responses or {}, response_schema=response_schema, path=path,
    )

    def register():
        config.registry.setdefault(OPERATIONS_KEY, {})[(route_name, method)] = operation

    config.action(("banter_payments.api_operation", route_name, method), register)


def _operation(request: Request) -> Operation | None:
    """The operation of this request; HEAD is GET without a body (Pyramid runs a GET
    view for HEAD and WebOb drops the body), so it reads GET's declaration."""
    route = request.matched_route
    if route is None:
        return None
    method = "GET" if request.method == "HEAD" else request.method
    return request.registry.get(OPERATIONS_KEY, {}).get((route.name, method))


def allowed_methods(request: Request) -> set[str]:
    """The methods declared for the routes whose pattern matches this path (whatever the
    request's method): what a 405's ``Allow`` header lists."""
    operations = request.registry.get(OPERATIONS_KEY, {})
    mapper = request.registry.queryUtility(IRoutesMapper)
    methods: set[str] = set()
    for route in mapper.get_routes() if mapper else []:
        if route.match(request.path_info) is not None:
            methods.update(method for name, method in operations if name == route.name)
    return methods


def not_found_view(exc: HTTPNotFound, request: Request) -> Response:
    """No such route; or a route that exists for other methods, which is a 405."""
    methods = allowed_methods(request)
    if methods and request.method not in methods:
        allow = ", ".join(sorted(methods | ({"HEAD"} if "GET" in methods else set())))
        return error_response(request, 405, MethodNotAllowed.code, MethodNotAllowed.message,
                              {"allowed": sorted(methods)}, headers={"Allow": allow})
    return error_response(request, 404, NotFound.code, NotFound.message)


def json_body(request: Request) -> Any:
    """The parsed JSON body; a clear 400 for anything that is not JSON."""
    if not request.body:
        return {}
    if request.content_type not in ("application/json", ""):
        raise UnsupportedMediaType()
    try:
        return parse_json(request.body)
    except InvalidJSON as exc:
        raise ValidationFailed("The body is not valid JSON.",
                               details={"body": str(exc)[:200]}) from None


def _validated_body(request: Request) -> Any:
    operation = _operation(request)
    if operation is None or operation.body is None:
        raise RuntimeError(f"no body schema declared for {request.matched_route.name}")
    schema = operation.body
    if isinstance(schema, BodyVariants):
        schema = schema.schema_for(request)
    return validate(schema, json_body(request))


def _validated_query(request: Request) -> Any:
    operation = _operation(request)
    if operation is None or operation.query is None:
        raise RuntimeError(f"no query schema declared for {request.matched_route.name}")
    try:
        query = dict(request.GET)
    except UnicodeDecodeError:
        raise ValidationFailed("The query string is not valid UTF-8.") from None
    return validate(operation.query, query, where="query")


def includeme(config) -> None:
    config.add_directive("add_api_operation", add_api_operation)
    # Here rather than with the other error views: telling a 405 from a 404 needs the
    # declared operations.
    config.add_notfound_view(not_found_view)
    config.add_request_method(_validated_body, "validated_body", reify=True)
    config.add_request_method(_validated_query, "validated_query", reify=True)
