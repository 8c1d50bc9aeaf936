"""``GET /openapi.json``: the OpenAPI 3 document of every enabled route.

Built at request time from the routes actually registered and the operations declared
with ``add_api_operation`` (whose schemas also validate the requests), so a disabled
plugin's routes are absent and a schema cannot say one thing here and another in a view.
"""

from __future__ import annotations

from typing import Any

from pyramid.interfaces import IRoutesMapper
from pyramid.request import Request
from pyramid.security import NO_PERMISSION_REQUIRED

from .api import OPERATIONS_KEY, BodyVariants, Operation
from .ids import MAX_PATH_VALUE_LENGTH, PATH_ID_FORMATS
from .schemas import to_json_schema


def openapi_document(request: Request) -> dict[str, Any]:
    registry = request.registry
    operations = registry.get(OPERATIONS_KEY, {})
    mapper = registry.queryUtility(IRoutesMapper)
    paths: dict[str, dict[str, Any]] = {}
    for route in mapper.get_routes() if mapper else []:
        for (route_name, method), operation in sorted(operations.items()):
            if route_name != route.name:
                continue
            path = operation.path or "/" + route.pattern.lstrip("/")
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
        {"name": name, "in": "path", "required": True, "schema": _path_schema(name)}
        for name in _path_params(operation.path or route.pattern)
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
            # What idempotency.services accepts: printable ASCII, space to "~".
            "schema": {"type": "string", "minLength": 1, "maxLength": 255,
                       "pattern": "^[\\x20-\\x7e]+$"},
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
    for status, description in sorted(_with_common_errors(operation).items()):
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


def _with_common_errors(operation: Operation) -> dict[int, str]:
    """The answers every operation of its kind can give, whether or not it lists them:
    bad input, missing or insufficient credentials, rate limits, the idempotency key's
    answers, and body limits. The operation's own descriptions win."""
    common: dict[int, str] = {}
    if operation.body is not None or operation.query is not None:
        common[400] = "validation_failed"
    authenticated = operation.permission not in (None, NO_PERMISSION_REQUIRED)
    if authenticated:
        common[401] = "unauthenticated: no, bad or expired token"
        common[429] = "rate_limited (limits are set per route in the ini), with Retry-After"
        if operation.permission in ("admin", "service"):
            common[403] = f"forbidden: needs the {operation.permission} role"
    if operation.method == "POST":
        common[409] = "conflict, or idempotency_key_in_use while the first request runs"
        common[413] = "payload_too_large"
        common[415] = "unsupported_media_type: send application/json"
        common[422] = "idempotency_key_reused: the same key with a different request"
    # Any operation: the database down or out of connections (banter_payments.errors).
    common[503] = "service_unavailable: the database is unavailable; with Retry-After"
    return {**common, **operation.responses}


def _path_schema(name: str) -> dict[str, Any]:
    """What ``banter_payments.http.pathids`` lets through (anything else is a 404)."""
    schema: dict[str, Any] = {"type": "string", "minLength": 1,
                              "maxLength": MAX_PATH_VALUE_LENGTH}
    if name in PATH_ID_FORMATS:
        schema["pattern"] = PATH_ID_FORMATS[name]
    return schema


def _path_params(pattern: str) -> list[str]:
    names = []
    for part in pattern.split("/"):
        if part.startswith("{") and part.endswith("}"):
            names.append(part[1:-1].split(":")[0])
    return names


def openapi_view(request: Request) -> dict[str, Any]:
    return openapi_document(request)


def includeme(config) -> None:
    config.add_route("payments.openapi", "/openapi.json")
    config.add_view(openapi_view, route_name="payments.openapi", request_method="GET",
                    renderer="json", permission=NO_PERMISSION_REQUIRED)
    config.add_api_operation(
        "payments.openapi", "GET", summary="This OpenAPI document", tag="meta",
        responses={200: "An OpenAPI 3 document of every enabled route"},
    )
