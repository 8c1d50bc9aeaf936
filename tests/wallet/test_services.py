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


def test_a_grant_is_idempotent_per_source(dbsession):
    expires = utcnow() + dt.timedelta(days=30)
    first = grant_entitlement(dbsession, "alice", "premium", "order:1", expires_at=expires)
    again = grant_entitlement(dbsession, "alice", "premium", "order:1",
                              expires_at=expires + dt.timedelta(days=99))
    dbsession.commit()

    assert again.id == first.id
    assert again.expires_at == expires
    assert dbsession.scalar(sa.select(sa.func.count()).select_from(Entitlement)) == 1


def test_active_entitlements_take_the_latest_expiry(dbsession):
    now = utcnow()
    grant_entitlement(dbsession, "alice", "premium", "sub:1:1", now + dt.timedelta(days=1))
    grant_entitlement(dbsession, "alice", "premium", "sub:1:2", now + dt.timedelta(days=31))
    grant_entitlement(dbsession, "alice", "old", "order:9", now - dt.timedelta(seconds=1))
    grant_entitlement(dbsession, "bob", "premium", "order:2")
    dbsession.commit()

    active = active_entitlements(dbsession, "alice", now=now)
    assert list(active) == ["premium"]
    assert active["premium"]["expiresAt"] == now + dt.timedelta(days=31)
    assert active_entitlements(dbsession, "bob")["premium"]["expiresAt"] is None
    assert active_entitlements(dbsession, "carol") == {}


def test_a_grant_that_never_expires_wins(dbsession):
    now = utcnow()
    grant_entitlement(dbsession, "alice", "premium", "sub:1", now + dt.timedelta(days=1))
    grant_entitlement(dbsession, "alice", "premium", "lifetime")
    grant_entitlement(dbsession, "alice", "premium", "sub:2", now + dt.timedelta(days=9))
    dbsession.commit()
    assert active_entitlements(dbsession, "alice", now=now)["premium"]["expiresAt"] is None


def test_revoking_ends_one_source_or_all(dbsession):
    grant_entitlement(dbsession, "alice", "premium", "a")
    grant_entitlement(dbsession, "alice", "premium", "b")
    grant_entitlement(dbsession, "alice", "badge", "c")
    dbsession.commit()

    assert revoke_entitlement(dbsession, "alice", "premium", source="a") == 1
    dbsession.commit()
    assert "premium" in active_entitlements(dbsession, "alice")
    assert revoke_entitlement(dbsession, "alice", "premium") == 1
    assert revoke_entitlement(dbsession, "alice", "premium") == 0
    dbsession.commit()
    assert list(active_entitlements(dbsession, "alice")) == ["badge"]


def test_a_revocation_in_the_future_keeps_the_right_until_then(dbsession):
    now = utcnow()
    grant_entitlement(dbsession, "alice", "premium", "sub:1")
    revoke_entitlement(dbsession, "alice", "premium", at=now + dt.timedelta(hours=1))
    dbsession.commit()
    assert "premium" in active_entitlements(dbsession, "alice", now=now)
    assert active_entitlements(dbsession, "alice", now=now + dt.timedelta(hours=2)) == {}


@pytest.mark.parametrize("arguments", [
    ("", "premium", "s"), ("alice", "", "s"), ("alice", "premium", ""),
    ("a" * 129, "premium", "s"), ("alice", "p" * 65, "s"), ("alice", "premium", None),
])
def test_malformed_grants_are_refused(dbsession, arguments):
    with pytest.raises(ValueError):
        grant_entitlement(dbsession, *arguments)


def test_a_naive_expiry_is_refused(dbsession):
    with pytest.raises(ValueError):
        grant_entitlement(dbsession, "alice", "premium", "s", expires_at=dt.datetime(2030, 1, 1))


def test_a_grant_in_a_request_transaction_is_committed(engine, dbsession):
    import transaction

    from banter_payments.db import get_tm_session, session_factories

    manager = transaction.TransactionManager(explicit=True)
    writer, _reader = session_factories(engine)
    with manager:
        grant_entitlement(get_tm_session(writer, manager), "alice", "premium", "order:1")
    assert list(active_entitlements(dbsession, "alice")) == ["premium"]
