"""Entitlements: named rights a user holds (``premium``), each from a source.

A grant is identified by (user, name, source), so granting it again from the same source
(a replayed webhook, a retried fulfilment) is a no-op. A right is active while some grant
of it is neither revoked nor past its ``expires_at``.
"""

from __future__ import annotations

import datetime as dt

from sqlalchemy import Index, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from ..clock import utcnow
from ..models.meta import Base, BigIntKey


class Entitlement(Base):
    __tablename__ = "entitlements"
    __table_args__ = (
        UniqueConstraint("user_id", "name", "source", name="uq_entitlements_grant"),
        Index("ix_entitlements_user_id_name", "user_id", "name"),
    )

    id: Mapped[int] = mapped_column(BigIntKey, primary_key=True, autoincrement=True)
    user_id: Mapped[str] = mapped_column(String(128))
    name: Mapped[str] = mapped_column(String(64))
    # What granted it: order:<id>, subscription:<id>:<period>, admin:<who>.
    source: Mapped[str] = mapped_column(String(200))
    granted_at: Mapped[dt.datetime] = mapped_column(default=utcnow)
    expires_at: Mapped[dt.datetime | None]
    revoked_at: Mapped[dt.datetime | None]

    def is_active(self, now: dt.datetime) -> bool:
        if self.revoked_at is not None and self.revoked_at <= now:
            return False
        return self.expires_at is None or self.expires_at > now
