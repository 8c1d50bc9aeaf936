"""Claiming, completing, releasing and forgetting idempotency keys.

Each function works in the session it is given and never commits: the tweens decide
which transaction each step belongs to (see ``banter_payments.idempotency``).
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import re
from dataclasses import dataclass

import sqlalchemy as sa
from sqlalchemy.orm import Session

from ..db import insert_unless_present, locked
from ..jsonparse import InvalidJSON, parse_json
from .models import IdempotencyKey

MAX_KEY_LENGTH = 255
_PRINTABLE = re.compile(r"[\x20-\x7e]+")

# What a replay carries over from the first answer besides status and body.
REPLAYED_HEADERS = ("Content-Type", "Location")


def key_problem(key: str) -> str | None:
    """Why ``key`` is not an acceptable Idempotency-Key, or None."""
    if not key:
        return "must not be empty"
    if len(key) > MAX_KEY_LENGTH:
        return f"must be at most {MAX_KEY_LENGTH} characters"
    if not _PRINTABLE.fullmatch(key):
        return "must contain only printable ASCII characters"
    return None


def canonical_body(body: bytes) -> bytes:
    """The body as the request means it: a JSON document in one canonical spelling
    (sorted keys, no spaces), so a client that serializes its retry differently still
    sends "the same request"; anything that is not JSON, byte for byte."""
    try:
        document = parse_json(body) if body.strip() else None
    except InvalidJSON:
        return body
    return json.dumps(document, sort_keys=True, separators=(",", ":"),
                      ensure_ascii=False).encode("utf-8")


def fingerprint(method: str, path: str, body: bytes) -> str:
    """What makes two requests "the same": method, path (with query) and the body's
    meaning (``canonical_body``)."""
    digest = hashlib.sha256()
    for part in (method.upper().encode(), path.encode("utf-8", "surrogateescape"),
                 hashlib.sha256(canonical_body(body)).hexdigest().encode()):
        digest.update(part)
        digest.update(b"\n")
    return digest.hexdigest()


@dataclass(frozen=True)
class StoredResponse:
    status: int
    headers: dict[str, str]
    body: bytes


@dataclass(frozen=True)
class ClaimOutcome:
    """``claimed`` (go ahead), ``replay`` (``response`` is the first answer),
    ``in_use`` (another attempt holds the key) or ``reused`` (a different request)."""

    kind: str
    response: StoredResponse | None = None


def _insert_ignoring_conflict(session: Session, values: dict) -> bool:
    return insert_unless_present(session, IdempotencyKey.__table__, values,
                                 ["scope", "key"]) is not None


def claim(session: Session, *, scope: str, key: str, request_fingerprint: str, method: str,
          path: str, token: str, now: dt.datetime, lease_seconds: int,
          ttl_seconds: int) -> ClaimOutcome:
    """Claim ``key`` for the attempt holding ``token``, or say why not.

    A claim already held with the same ``token`` (an earlier attempt of the same
    request, replayed by pyramid_retry) is renewed; an expired lease is taken over, so a
    crashed process cannot wedge a key; a row past its ``expires_at`` is forgotten.
    """
    lease = now + dt.timedelta(seconds=lease_seconds)
    fresh = {
        "fingerprint": request_fingerprint, "method": method.upper(), "path": path[:500],
        "status": "in_flight", "claim_token": token, "locked_until": lease,
        "response_status": None, "response_headers": None, "response_body": None,
        "created_at": now, "completed_at": None,
        "expires_at": now + dt.timedelta(seconds=ttl_seconds),
    }
    if _insert_ignoring_conflict(session, {"scope": scope, "key": key, **fresh}):
        return ClaimOutcome("claimed")
    row = session.scalar(locked(
        sa.select(IdempotencyKey)
        .where(IdempotencyKey.scope == scope, IdempotencyKey.key == key)
    ))
    if row is None:  # removed by the cleanup between our insert and our select
        return claim(session, scope=scope, key=key, request_fingerprint=request_fingerprint,
                     method=method, path=path, token=token, now=now,
                     lease_seconds=lease_seconds, ttl_seconds=ttl_seconds)
    if row.expires_at <= now:
        _overwrite(session, row, fresh)
        return ClaimOutcome("claimed")
    if row.fingerprint != request_fingerprint:
        return ClaimOutcome("reused")
    if row.status == "completed":
        return ClaimOutcome("replay", StoredResponse(
            status=row.response_status, headers=dict(row.response_headers or {}),
            body=row.response_body or b"",
        ))
    if row.claim_token == token or row.locked_until is None or row.locked_until <= now:
        _overwrite(session, row, {"claim_token": token, "locked_until": lease})
        return ClaimOutcome("claimed")
    return ClaimOutcome("in_use")


def _overwrite(session: Session, row: IdempotencyKey, values: dict) -> None:
    for name, value in values.items():
        setattr(row, name, value)
    session.flush()


def complete(session: Session, *, scope: str, key: str, token: str,
             response: StoredResponse, now: dt.datetime) -> bool:
    """Store the answer if ``token`` still holds the claim; False if it lost it."""
    result = session.execute(
        sa.update(IdempotencyKey)
        .where(IdempotencyKey.scope == scope, IdempotencyKey.key == key,
               IdempotencyKey.claim_token == token, IdempotencyKey.status == "in_flight")
        .values(status="completed", claim_token=None, locked_until=None,
                response_status=response.status, response_headers=response.headers,
                response_body=response.body, completed_at=now)
        .execution_options(synchronize_session=False)
    )
    return result.rowcount == 1


def release(session: Session, *, scope: str, key: str, token: str) -> bool:
    """Forget a claim that produced nothing worth replaying, so the key can be reused."""
    result = session.execute(
        sa.delete(IdempotencyKey)
        .where(IdempotencyKey.scope == scope, IdempotencyKey.key == key,
               IdempotencyKey.claim_token == token, IdempotencyKey.status == "in_flight")
        .execution_options(synchronize_session=False)
    )
    return result.rowcount == 1


def delete_expired(session: Session, *, now: dt.datetime, batch_size: int = 1000) -> int:
    """Delete up to ``batch_size`` keys past their ``expires_at``; returns how many.

    A claim whose lease is still running is kept even when expired, so a request that
    is still in flight cannot lose its key under it.
    """
    ids = session.scalars(
        sa.select(IdempotencyKey.id)
        .where(IdempotencyKey.expires_at <= now,
               sa.or_(IdempotencyKey.locked_until.is_(None),
                      IdempotencyKey.locked_until <= now))
        .order_by(IdempotencyKey.id)
        .limit(batch_size)
    ).all()
    if not ids:
        return 0
    result = session.execute(
        sa.delete(IdempotencyKey).where(IdempotencyKey.id.in_(ids))
        .execution_options(synchronize_session=False)
    )
    return result.rowcount
