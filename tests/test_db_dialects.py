"""Every per-database SQL idiom is chosen from ``db.DIALECTS`` and nowhere else."""

from __future__ import annotations

import re
import types

import pytest
import sqlalchemy as sa

from banter_payments import db
from banter_payments.idempotency.models import IdempotencyKey


def fake_session(dialect_name: str):
    bind = types.SimpleNamespace(dialect=types.SimpleNamespace(name=dialect_name))
    return types.SimpleNamespace(get_bind=lambda: bind, info={})


def test_a_database_without_an_entry_is_refused_by_name():
    with pytest.raises(RuntimeError, match="supports postgresql, sqlite, not mysql"):
        db.insert_ignoring_conflict(fake_session("mysql"), IdempotencyKey, ["scope", "key"])


def test_each_dialect_spells_insert_unless_present_for_itself():
    from sqlalchemy.dialects import postgresql, sqlite

    for name, dialect in (("postgresql", postgresql.dialect()), ("sqlite", sqlite.dialect())):
        _check_insert(name, dialect)


def _check_insert(name, dialect):
    statement = db.insert_ignoring_conflict(fake_session(name), IdempotencyKey.__table__,
                                            ["scope", "key"]).values(scope="s", key="k")
    sql = str(statement.compile(dialect=dialect))
    assert re.search(r'ON CONFLICT \(scope, "?key"?\) DO NOTHING', sql), sql


def test_an_advisory_lock_only_where_the_database_has_one():
    executed = []
    session = fake_session("sqlite")
    session.execute = lambda *args: executed.append(args)
    db.lock_key(session, "k")
    assert executed == []
    session = fake_session("postgresql")
    session.execute = lambda *args: executed.append(args)
    db.lock_key(session, "k")
    [(statement, params)] = executed
    assert isinstance(statement, sa.TextClause) and "pg_advisory_xact_lock" in statement.text
    assert params == {"key": "k"}
