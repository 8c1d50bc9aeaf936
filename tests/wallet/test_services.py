"""Entitlement grants: idempotent per source, active until expiry or revocation."""

from __future__ import annotations

import datetime as dt

import pytest
import sqlalchemy as sa

from banter_payments.clock import utcnow
from banter_payments.wallet.models import Entitlement
from banter_payments.wallet.services import (
    active_entitlements,
    grant_entitlement,
    revoke_entitlement,
)


def test_a_grant_is_idempotent_per_source(session):
    expires = utcnow() + dt.timedelta(days=30)
    first = grant_entitlement(session, "alice", "premium", "order:1", expires_at=expires)
    again = grant_entitlement(session, "alice", "premium", "order:1",
                              expires_at=expires + dt.timedelta(days=99))
    session.commit()

    assert again.id == first.id
    assert again.expires_at == expires
    assert session.scalar(sa.select(sa.func.count()).select_from(Entitlement)) == 1


def test_active_entitlements_take_the_latest_expiry(session):
    now = utcnow()
    grant_entitlement(session, "alice", "premium", "sub:1:1", now + dt.timedelta(days=1))
    grant_entitlement(session, "alice", "premium", "sub:1:2", now + dt.timedelta(days=31))
    grant_entitlement(session, "alice", "old", "order:9", now - dt.timedelta(seconds=1))
    grant_entitlement(session, "bob", "premium", "order:2")
    session.commit()

    active = active_entitlements(session, "alice", now=now)
    assert list(active) == ["premium"]
    assert active["premium"]["expiresAt"] == now + dt.timedelta(days=31)
    assert active_entitlements(session, "bob")["premium"]["expiresAt"] is None
    assert active_entitlements(session, "carol") == {}


def test_a_grant_that_never_expires_wins(session):
    now = utcnow()
    grant_entitlement(session, "alice", "premium", "sub:1", now + dt.timedelta(days=1))
    grant_entitlement(session, "alice", "premium", "lifetime")
    grant_entitlement(session, "alice", "premium", "sub:2", now + dt.timedelta(days=9))
    session.commit()
    assert active_entitlements(session, "alice", now=now)["premium"]["expiresAt"] is None


def test_revoking_ends_one_source_or_all(session):
    grant_entitlement(session, "alice", "premium", "a")
    grant_entitlement(session, "alice", "premium", "b")
    grant_entitlement(session, "alice", "badge", "c")
    session.commit()

    assert revoke_entitlement(session, "alice", "premium", source="a") == 1
    session.commit()
    assert "premium" in active_entitlements(session, "alice")
    assert revoke_entitlement(session, "alice", "premium") == 1
    assert revoke_entitlement(session, "alice", "premium") == 0
    session.commit()
    assert list(active_entitlements(session, "alice")) == ["badge"]


def test_a_revocation_in_the_future_keeps_the_right_until_then(session):
    now = utcnow()
    grant_entitlement(session, "alice", "premium", "sub:1")
    revoke_entitlement(session, "alice", "premium", at=now + dt.timedelta(hours=1))
    session.commit()
    assert "premium" in active_entitlements(session, "alice", now=now)
    assert active_entitlements(session, "alice", now=now + dt.timedelta(hours=2)) == {}


@pytest.mark.parametrize("arguments", [
    ("", "premium", "s"), ("alice", "", "s"), ("alice", "premium", ""),
    ("a" * 129, "premium", "s"), ("alice", "p" * 65, "s"), ("alice", "premium", None),
])
def test_malformed_grants_are_refused(session, arguments):
    with pytest.raises(ValueError):
        grant_entitlement(session, *arguments)


def test_a_naive_expiry_is_refused(session):
    with pytest.raises(ValueError):
        grant_entitlement(session, "alice", "premium", "s", expires_at=dt.datetime(2030, 1, 1))


def test_a_grant_in_a_request_transaction_is_committed(engine, session):
    import transaction

    from banter_payments.db import get_tm_session, session_factories

    manager = transaction.TransactionManager(explicit=True)
    writer, _reader = session_factories(engine)
    with manager:
        grant_entitlement(get_tm_session(writer, manager), "alice", "premium", "order:1")
    assert list(active_entitlements(session, "alice")) == ["premium"]
