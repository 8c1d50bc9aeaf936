"""``POST /_sandbox/token``: a development token, so a newcomer can call the API with curl.

Only mounted in sandbox mode, which production refuses. The body is declared once as a
strict schema (``add_api_operation``), which both validates the request and documents it
in the OpenAPI document; the token is signed with the app's own JWT settings by the
core's ``issue_token``.
"""

from __future__ import annotations

import colander
from pyramid.request import Request

from banter_payments.schemas import StrictSchema, StrictString


class Roles(colander.SequenceSchema):
    role = colander.SchemaNode(StrictString(), validator=colander.Length(min=1, max=64))


class TokenBody(StrictSchema):
    sub = colander.SchemaNode(
        StrictString(), validator=colander.Length(min=1, max=128), description="the user id"
    )
    roles = Roles(missing=[], validator=colander.Length(max=16), description="e.g. admin, service")


def issue_sandbox_token(request: Request) -> dict[str, str]:
    # The core's, imported when used so that importing the sandbox never pulls in the
    # security policy (the migrations environment imports this package).
    from banter_payments.security import issue_token

    body = request.validated_body
    return {"token": issue_token(request.registry.settings, body["sub"], list(body["roles"]))}
