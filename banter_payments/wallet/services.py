"""Entitlement grants: what order fulfilment and subscriptions call.

``WalletService`` is bound to a session (the request's, or a job's), like the ledger
service, so that fulfilment can grant coins and a right in one transaction.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from sqlalchemy import or_, select, update
from sqlalchemy.orm import Session
from zope.interface import implementer

from ..clock import utcnow
from ..db import insert_ignoring_conflict, write
from .interfaces import IWalletService
from .models import Entitlement


@implementer(IWalletService)
class WalletService:
    def __init__(self, session: Session):
        self.session = session

    def grant_entitlement(self, user_id: str, name: str, source: str,
                          expires_at: dt.datetime | None = None) -> Entitlement:
        return grant_entitlement(self.session, user_id, name, source, expires_at)

    def revoke_entitlement(self, user_id: str, name: str, source: str | None = None,
                           at: dt.datetime | None = None) -> int:
        return revoke_entitlement(self.session, user_id, name, source, at)

    def active_entitlements(self, user_id: str,
                            now: dt.datetime | None = None) -> dict[str, dict]:
        return active_entitlements(self.session, user_id, now)


def wallet_service_factory(context: Any, source: Any) -> WalletService:
    """``source`` is a request or a ``banter_payments.jobs.Job``."""
    return WalletService(source.dbsession)


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
    write(session, insert_ignoring_conflict(session, Entitlement,
                                            ["user_id", "name", "source"])
          .values(user_id=user_id, name=name, source=source, granted_at=utcnow(),
                  expires_at=expires_at))
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
    """``{name: {"grantedAt", "expiresAt", "source"}}`` of the rights active now;
    ``expiresAt`` is the latest expiry among the active grants, None when one of them
    never expires, and ``source`` the kind of grant that lasts longest."""
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
                                  "expiresAt": grant.expires_at,
                                  "source": source_kind(grant.source)}
            continue
        if current["expiresAt"] is not None and (
                grant.expires_at is None or grant.expires_at > current["expiresAt"]):
            current["expiresAt"] = grant.expires_at
            current["source"] = source_kind(grant.source)
    return result


def source_kind(source: str) -> str:
    """What granted a right, without its ids: ``subscription`` for
    ``subscription:sbs_…:pay_…``, ``order`` for ``order:ord_…``."""
    return source.split(":", 1)[0]
