"""Who is calling: a JWT security policy with roles.

``Authorization: Bearer <JWT>``, HS256 by default, claims ``sub`` (the user id), ``roles``
(a list; ``admin`` and ``service`` mean something here) and ``exp`` (required). Views ask
for one of three permissions:

- ``user``: any authenticated caller;
- ``admin``: a caller whose roles include ``admin``;
- ``service``: a caller whose roles include ``service`` (a host app's backend).

A host app may replace this policy with its own (``config.set_security_policy``) as long
as its identity has ``user_id`` and ``roles``.
"""

from __future__ import annotations

import datetime as dt
import re
from dataclasses import dataclass, field

import jwt
from pyramid.request import Request
from pyramid.security import Allowed, Denied

from .clock import utcnow

USER = "user"
ADMIN = "admin"
SERVICE = "service"


EMAIL = re.compile(r"[^@\s\x00-\x1f\x7f]{1,64}@[^@\s\x00-\x1f\x7f]{1,253}")


@dataclass(frozen=True)
class Identity:
    user_id: str
    roles: frozenset[str] = field(default_factory=frozenset)
    # The token's ``email`` claim, only when ``email_verified`` is true (OpenID
    # Connect's claims): what an order captures as its customer's address.
    email: str | None = None

    @property
    def is_admin(self) -> bool:
        return ADMIN in self.roles

    @property
    def is_service(self) -> bool:
        return SERVICE in self.roles


def issue_token(settings, sub: str, roles: list[str] | tuple[str, ...] = (),
                ttl_seconds: int = 3600, extra: dict | None = None) -> str:
    """A signed token for ``sub`` (with ``extra`` claims, such as ``email`` and
    ``email_verified``); used by the sandbox's token route and by tests."""
    now = utcnow()
    claims = {
        **(extra or {}),
        "sub": sub,
        "roles": list(roles),
        "iat": int(now.timestamp()),
        "exp": int((now + dt.timedelta(seconds=ttl_seconds)).timestamp()),
    }
    return jwt.encode(claims, settings["jwt.secret"], algorithm=settings["jwt.algorithm"])


class JWTSecurityPolicy:
    def identity(self, request: Request) -> Identity | None:
        return request.jwt_identity

    def authenticated_userid(self, request: Request) -> str | None:
        identity = request.jwt_identity
        return identity.user_id if identity else None

    def permits(self, request: Request, context, permission: str):
        identity = request.jwt_identity
        if identity is None:
            return Denied("no identity")
        if permission == USER:
            return Allowed("authenticated")
        if permission in identity.roles:
            return Allowed(f"has role {permission}")
        return Denied(f"lacks role {permission}")

    def remember(self, request, userid, **kw):
        return []

    def forget(self, request, **kw):
        return []


def _jwt_identity(request: Request) -> Identity | None:
    """Decode the bearer token once per request; why it failed goes on the request."""
    header = request.headers.get("Authorization", "")
    scheme, _, token = header.partition(" ")
    if not header:
        request.auth_failure = "A bearer token is required."
        return None
    if scheme.lower() != "bearer" or not token.strip():
        request.auth_failure = "Use 'Authorization: Bearer <token>'."
        return None
    settings = request.registry.settings
    try:
        claims = jwt.decode(
            token.strip(),
            settings["jwt.secret"],
            algorithms=[settings["jwt.algorithm"]],
            options={"require": ["sub", "exp"]},
            leeway=settings["jwt.leeway_seconds"],
        )
    except jwt.ExpiredSignatureError:
        request.auth_failure = "The token has expired."
        return None
    except jwt.InvalidTokenError:
        request.auth_failure = "The token is not valid."
        return None
    sub, roles = claims.get("sub"), claims.get("roles", [])
    if not isinstance(sub, str) or not sub or len(sub) > 128:
        request.auth_failure = "The token's sub claim must be a user id."
        return None
    if not isinstance(roles, list) or not all(isinstance(r, str) for r in roles):
        request.auth_failure = "The token's roles claim must be a list of strings."
        return None
    return Identity(user_id=sub, roles=frozenset(roles), email=verified_email(claims))


def verified_email(claims: dict) -> str | None:
    """The ``email`` claim when ``email_verified`` is true and it looks like one address
    (no spaces or control characters, at most 254 characters); otherwise None."""
    email = claims.get("email")
    if claims.get("email_verified") is not True or not isinstance(email, str):
        return None
    if len(email) > 254 or not EMAIL.fullmatch(email):
        return None
    return email


def includeme(config) -> None:
    config.add_request_method(_jwt_identity, "jwt_identity", reify=True)
    config.set_security_policy(JWTSecurityPolicy())
