"""``POST /_sandbox/token``: a development token, so a newcomer can call the API with curl.

Only mounted in sandbox mode, which production refuses; the token is signed with the
app's own JWT settings by the core's ``issue_token``.
"""

from __future__ import annotations

import json
from typing import Any

from pyramid.request import Request
from pyramid.response import Response

MAX_SUB_LENGTH = 128
MAX_ROLES = 16
MAX_ROLE_LENGTH = 64
MAX_BODY_BYTES = 4096


def _error(message: str, details: dict[str, str], status: int = 400) -> Response:
    body = {"error": {"code": "validation_failed", "message": message, "details": details}}
    return Response(json_body=body, status=status, content_type="application/json")


def _validate(data: Any) -> dict[str, str]:
    """Field name -> problem, for every problem with the body."""
    if not isinstance(data, dict):
        return {"body": "must be a JSON object"}
    problems = {name: "unknown field" for name in data if name not in ("sub", "roles")}
    sub = data.get("sub")
    if not isinstance(sub, str) or not 1 <= len(sub) <= MAX_SUB_LENGTH:
        problems["sub"] = f"required: a string of 1 to {MAX_SUB_LENGTH} characters"
    roles = data.get("roles", [])
    if (
        not isinstance(roles, list)
        or len(roles) > MAX_ROLES
        or not all(isinstance(r, str) and 1 <= len(r) <= MAX_ROLE_LENGTH for r in roles)
    ):
        problems["roles"] = (
            f"a list of at most {MAX_ROLES} strings of 1 to {MAX_ROLE_LENGTH} characters"
        )
    return problems


def issue_sandbox_token(request: Request) -> Response:
    if (request.content_length or 0) > MAX_BODY_BYTES or len(request.body) > MAX_BODY_BYTES:
        return _error("The request body is too large.", {"body": "too large"})
    try:
        data = json.loads(request.body.decode("utf-8")) if request.body.strip() else None
    except (UnicodeDecodeError, ValueError):
        return _error("The request body is not valid JSON.", {"body": "invalid JSON"})
    problems = _validate(data)
    if problems:
        return _error("The request body does not match the schema.", problems)
    # Imported here: the security module belongs to the core and loads its own settings.
    from banter_payments.security import issue_token

    token = issue_token(request.registry.settings, data["sub"], list(data.get("roles", [])))
    return Response(json_body={"token": token}, content_type="application/json")
