"""REST plumbing: one directive declares an operation, and that declaration is used twice.

``config.add_api_operation(route_name, method, ...)`` records, for one route and method,
its summary, who may call it, and the colander schemas of its body and query. Views read
their input through ``request.validated_body`` / ``request.validated_query``, which look the
schemas up from the same record, and ``GET /openapi.json`` is built from the same records
and the routes that are actually registered. A schema therefore cannot say one thing in
the document and another in the view, and a disabled plugin's routes vanish from both.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import Any

import colander
from pyramid.request import Request
from pyramid.security import NO_PERMISSION_REQUIRED

from .errors import UnsupportedMediaType, ValidationFailed
from .schemas import to_json_schema, validate

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


def add_api_operation(config, route_name: str, method: str, *, summary: str, tag: str,
                      permission: str | None = None, body=None, query=None,
                      responses: dict[int, str] | None = None,
                      response_schema: dict[str, Any] | None = None) -> None:
    method = method.upper()
    operation = Operation(
        route_name=route_name, method=method, summary=summary, tag=tag,
        permission=permission,
        body=body() if isinstance(body, type) else body,
        query=query() if isinstance(query, type) else query,
        responses=responses or {}, response_schema=response_schema,
    )

    def register():
        config.registry.setdefault(OPERATIONS_KEY, {})[(route_name, method)] = operation

    config.action(("banter_payments.api_operation", route_name, method), register)


def _operation(request: Request) -> Operation | None:
    route = request.matched_route
    if route is None:
        return None
    return request.registry.get(OPERATIONS_KEY, {}).get((route.name, request.method))


def json_body(request: Request) -> Any:
    """The parsed JSON body; a clear 400 for anything that is not JSON."""
    if not request.body:
        return {}
    if request.content_type not in ("application/json", ""):
        raise UnsupportedMediaType()
    try:
        return json.loads(request.body)
    except (ValueError, UnicodeDecodeError):
        raise ValidationFailed("The body is not valid JSON.") from None


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
    return validate(operation.query, dict(request.GET))


def openapi_document(request: Request) -> dict[str, Any]:
    registry = request.registry
    operations = registry.get(OPERATIONS_KEY, {})
    mapper = registry.queryUtility(_routes_mapper_iface())
    paths: dict[str, dict[str, Any]] = {}
    for route in mapper.get_routes() if mapper else []:
        for (route_name, method), operation in sorted(operations.items()):
            if route_name != route.name:
                continue
            path = "/" + route.pattern.lstrip("/")
            paths.setdefault(path, {})[method.lower()] = _openapi_operation(route, operation)
    return {
        "openapi": "3.0.3",
        "info": {
            "title": "banter-payments",
            "version": "1",
            "description": "Orders, checkout verification, webhooks, and the wallet.",
        },
        "paths": paths,
        "components": {
            "securitySchemes": {
                "bearer": {"type": "http", "scheme": "bearer", "bearerFormat": "JWT"}
            },
            "schemas": {"Error": ERROR_SCHEMA},
        },
    }


def _routes_mapper_iface():
    from pyramid.interfaces import IRoutesMapper

    return IRoutesMapper


ERROR_SCHEMA = {
    "type": "object",
    "required": ["error"],
    "properties": {
        "error": {
            "type": "object",
            "required": ["code", "message", "details"],
            "properties": {
                "code": {"type": "string"},
                "message": {"type": "string"},
                "details": {"type": "object"},
            },
        }
    },
}


def _openapi_operation(route, operation: Operation) -> dict[str, Any]:
    result: dict[str, Any] = {
        "operationId": f"{route.name}.{operation.method.lower()}",
        "summary": operation.summary,
        "tags": [operation.tag],
    }
    parameters = [
        {"name": name, "in": "path", "required": True, "schema": {"type": "string"}}
        for name in _path_params(route.pattern)
    ]
    if operation.query is not None:
        for child in operation.query.children:
            parameters.append({
                "name": child.name, "in": "query", "required": bool(child.required),
                "schema": to_json_schema(child),
            })
    if operation.method == "POST":
        parameters.append({
            "name": "Idempotency-Key", "in": "header", "required": False,
            "schema": {"type": "string", "minLength": 1, "maxLength": 255},
        })
    if parameters:
        result["parameters"] = parameters
    if operation.body is not None:
        if isinstance(operation.body, BodyVariants):
            schema = {"oneOf": [dict(to_json_schema(node), title=name)
                                for name, node in operation.body.variants.items()]}
        else:
            schema = to_json_schema(operation.body)
        result["requestBody"] = {
            "required": True,
            "content": {"application/json": {"schema": schema}},
        }
    if operation.permission and operation.permission != NO_PERMISSION_REQUIRED:
        result["security"] = [{"bearer": []}]
    responses: dict[str, Any] = {}
    for status, description in sorted(operation.responses.items()):
        entry: dict[str, Any] = {"description": description}
        if status >= 400:
            entry["content"] = {
                "application/json": {"schema": {"$ref": "#/components/schemas/Error"}}
            }
        elif operation.response_schema is not None:
            entry["content"] = {"application/json": {"schema": operation.response_schema}}
        responses[str(status)] = entry
    result["responses"] = responses or {"200": {"description": "OK"}}
    return result


def _path_params(pattern: str) -> list[str]:
    names = []
    for part in pattern.split("/"):
        if part.startswith("{") and part.endswith("}"):
            names.append(part[1:-1].split(":")[0])
    return names


def openapi_view(request: Request) -> dict[str, Any]:
    return openapi_document(request)


def includeme(config) -> None:
    config.add_directive("add_api_operation", add_api_operation)
    config.add_request_method(_validated_body, "validated_body", reify=True)
    config.add_request_method(_validated_query, "validated_query", reify=True)
    config.add_route("payments.openapi", "/openapi.json")
    config.add_view(openapi_view, route_name="payments.openapi", request_method="GET",
                    renderer="json", permission=NO_PERMISSION_REQUIRED)
    config.add_api_operation(
        "payments.openapi", "GET", summary="This OpenAPI document", tag="meta",
        responses={200: "An OpenAPI 3 document of every enabled route"},
    )
