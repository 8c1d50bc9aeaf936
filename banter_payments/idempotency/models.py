"""Idempotency keys: one row per (caller, key), claimed while in flight, then the answer.

A row is either ``in_flight`` (claimed by one attempt, identified by ``claim_token``,
until ``locked_until``) or ``completed`` (``response_*`` hold the first answer). Rows
live until ``expires_at`` (at least 24 hours after the claim) and are then removed by
``banter-cleanup-idempotency``.
"""

from __future__ import annotations

import datetime as dt

from sqlalchemy import CheckConstraint, Index, LargeBinary, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from ..clock import utcnow
from ..models.meta import Base, BigIntKey


class IdempotencyKey(Base):
    __tablename__ = "idempotency_keys"
    __table_args__ = (
        UniqueConstraint("scope", "key", name="uq_idempotency_keys_scope_key"),
        CheckConstraint("status IN ('in_flight', 'completed')", name="status_known"),
        CheckConstraint(
            "status = 'in_flight' OR response_status IS NOT NULL", name="completed_has_response"
        ),
        Index("ix_idempotency_keys_expires_at", "expires_at"),
    )

    id: Mapped[int] = mapped_column(BigIntKey, primary_key=True, autoincrement=True)
    # Who may replay it: "user:<id>" for an authenticated caller, "anonymous:<ip>" else.
    scope: Mapped[str] = mapped_column(String(200))
    key: Mapped[str] = mapped_column(String(255))
    # sha256 of method, path and the sha256 of the body.
    fingerprint: Mapped[str] = mapped_column(String(64))
    method: Mapped[str] = mapped_column(String(10))
    path: Mapped[str] = mapped_column(String(500))
    status: Mapped[str] = mapped_column(String(16), default="in_flight")
    claim_token: Mapped[str | None] = mapped_column(String(64))
    locked_until: Mapped[dt.datetime | None]
    response_status: Mapped[int | None]
    response_headers: Mapped[dict | None]
    response_body: Mapped[bytes | None] = mapped_column(LargeBinary)
    created_at: Mapped[dt.datetime] = mapped_column(default=utcnow)
    completed_at: Mapped[dt.datetime | None]
    expires_at: Mapped[dt.datetime]
