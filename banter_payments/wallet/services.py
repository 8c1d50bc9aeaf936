"""Entitlement grants: what order fulfilment and subscriptions call.

These are plain functions over a session (the request's, or a job's), like the ledger
service, so that fulfilment can grant coins and a right in one transaction.
"""

from __future__ import annotations

import datetime as dt

from sqlalchemy import or_, select, update
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import Session

from ..clock import utcnow
from .models import Entitlement


def grant_entitlement(session: Session, user_id: str, name: str, source: str,
                      expires_at: dt.datetime | None = None) -> Entitlement:
    """Grant ``name`` to ``user_id`` from ``source``; idempotent per (user, name, source).

    Granting again from the same source returns the first grant unchanged (a replay
    must not extend or shorten anything); a new period is a new source.
    """
    for label, value, limit in (("user_id", user_id, 128), ("name", name, 64),
                                ("source", source, 200)):
        if not isinstance(value, str) or not value or len(value) > limit:
            raise ValueError(f"{label} must be a string of 1-{limit} characters")
    if expires_at is not None and expires_at.tzinfo is None:
        raise ValueError("expires_at must be an aware UTC datetime")
    dialect = session.get_bind().dialect.name
    insert = postgresql.insert if dialect == "postgresql" else sqlite.insert
    session.execute(
        insert(Entitlement)
        .values(user_id=user_id, name=name, source=source, granted_at=utcnow(),
                expires_at=expires_at)
        .on_conflict_do_nothing(index_elements=["user_id", "name", "source"])
    )
    return session.scalars(
        select(Entitlement).where(Entitlement.user_id == user_id,
                                  Entitlement.name == name, Entitlement.source == source)
    ).one()


def revoke_entitlement(session: Session, user_id: str, name: str,
                       source: str | None = None, at: dt.datetime | None = None) -> int:
    """End ``name`` for ``user_id`` at ``at`` (now): the grant from ``source``, or all of
    them. Returns how many grants it ended; already revoked ones are left as they were."""
    at = at or utcnow()
    statement = update(Entitlement).where(Entitlement.user_id == user_id,
                                          Entitlement.name == name,
                                          Entitlement.revoked_at.is_(None))
    if source is not None:
        statement = statement.where(Entitlement.source == source)
    result = session.execute(statement.values(revoked_at=at),
                             execution_options={"synchronize_session": "fetch"})
    return result.rowcount


def active_entitlements(session: Session, user_id: str,
                        now: dt.datetime | None = None) -> dict[str, dict]:
    """``{name: {"grantedAt", "expiresAt"}}`` of the rights active now; ``expiresAt`` is
    the latest expiry among the active grants, None when one of them never expires."""
    now = now or utcnow()
    grants = session.scalars(
        select(Entitlement).where(
            Entitlement.user_id == user_id,
            or_(Entitlement.revoked_at.is_(None), Entitlement.revoked_at > now),
            or_(Entitlement.expires_at.is_(None), Entitlement.expires_at > now),
        ).order_by(Entitlement.name, Entitlement.granted_at)
    ).all()
    result: dict[str, dict] = {}
    for grant in grants:
        current = result.get(grant.name)
        if current is None:
            result[grant.name] = {"grantedAt": grant.granted_at,
                                  "expiresAt": grant.expires_at}
            continue
        if current["expiresAt"] is not None and (
                grant.expires_at is None or grant.expires_at > current["expiresAt"]):
            current["expiresAt"] = grant.expires_at
    return result
