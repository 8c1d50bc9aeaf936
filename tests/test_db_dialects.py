"""Every per-database SQL idiom is chosen from ``db.DIALECTS`` and nowhere else."""

from __future__ import annotations

import datetime as dt
import pathlib
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
    with pytest.raises(RuntimeError, match="supports postgresql, sqlite, mysql, not oracle"):
        db.insert_ignoring_conflict(fake_session("oracle"), IdempotencyKey, ["scope", "key"])


def test_each_dialect_spells_insert_unless_present_for_itself():
    from sqlalchemy.dialects import postgresql, sqlite

    for name, dialect in (("postgresql", postgresql.dialect()), ("sqlite", sqlite.dialect())):
        _check_insert(name, dialect)


def _check_insert(name, dialect):
    statement = db.insert_ignoring_conflict(fake_session(name), IdempotencyKey.__table__,
                                            ["scope", "key"]).values(scope="s", key="k")
    sql = str(statement.compile(dialect=dialect))
    assert re.search(r'ON CONFLICT \(scope, "?key"?\) DO NOTHING', sql), sql


def test_mysql_spells_insert_unless_present_as_insert_ignore():
    from sqlalchemy.dialects import mysql

    statement = db.insert_ignoring_conflict(fake_session("mysql"), IdempotencyKey.__table__,
                                            ["scope", "key"]).values(scope="s", key="k")
    sql = str(statement.compile(dialect=mysql.dialect()))
    assert sql.startswith("INSERT IGNORE INTO idempotency_keys"), sql


def test_every_dialect_defines_every_idiom():
    """A database is all of an entry or none of it: every field is its own."""
    assert set(db.DIALECTS) == {"postgresql", "sqlite", "mysql"}
    mysql = db.DIALECTS["mysql"]
    assert mysql.advisory_lock and "GET_LOCK" in mysql.advisory_lock
    assert mysql.session_locks and not mysql.update_returning
    assert db.DIALECTS["postgresql"].update_returning


@pytest.mark.parametrize(("version", "refused"), [
    ("10.11.19-MariaDB-0+deb12u1", None),
    ("5.5.5-10.11.19-MariaDB-0+deb12u1", None),
    ("10.6.5-MariaDB", None),
    ("11.4.2-MariaDB", None),
    ("10.5.20-MariaDB", "too old"),
    ("8.0.36", "MySQL 8.0.36 is not supported"),
])
def test_the_server_version_is_checked_at_connect(version, refused):
    if refused is None:
        db.check_mysql_server(version)
    else:
        with pytest.raises(db.UnsupportedServer, match=refused):
            db.check_mysql_server(version)


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


# The helpers on the database the suite runs on (SQLite, or --database-url PostgreSQL or
# MariaDB).


def _tm_session(engine):
    import transaction

    manager = transaction.TransactionManager(explicit=True)
    writer, _reader = db.session_factories(engine)
    return manager, writer


def _sequence(dbsession, aggregate_id):
    from banter_payments.outbox.models import OutboxSequence

    dbsession.expire_all()
    row = dbsession.get(OutboxSequence, ("order", aggregate_id))
    return None if row is None else row.last_sequence


def test_upsert_inserts_then_updates_the_same_row_and_is_committed(engine, dbsession):
    """Committed by the transaction manager: a Core upsert alone would be rolled back
    as read-only."""
    from banter_payments.outbox.models import OutboxSequence

    table = OutboxSequence.__table__
    manager, writer = _tm_session(engine)
    returned = []
    with manager:
        session = db.get_tm_session(writer, manager)
        for _ in range(3):
            returned.append(db.upsert(
                session, table,
                {"aggregate_type": "order", "aggregate_id": "ord_1", "last_sequence": 1},
                ["aggregate_type", "aggregate_id"],
                {"last_sequence": table.c.last_sequence + 1},
                returning=table.c.last_sequence))
    assert returned == [1, 2, 3]
    assert _sequence(dbsession, "ord_1") == 3
    assert _sequence(dbsession, "ord_2") is None


def test_upsert_sets_values_on_conflict_and_returns_none_without_returning(dbsession):
    from banter_payments.outbox.models import OutboxEndpointState

    table = OutboxEndpointState.__table__
    first = dt.datetime(2026, 1, 2, 3, 4, 5, tzinfo=dt.UTC)
    later = first + dt.timedelta(minutes=1)
    for error, when in (("boom", first), ("bang", later)):
        assert db.upsert(dbsession, table,
                         {"endpoint": "e", "consecutive_failures": 1, "last_error": error,
                          "updated_at": when},
                         ["endpoint"], {"last_error": error, "updated_at": when}) is None
    dbsession.commit()
    row = dbsession.get(OutboxEndpointState, "e")
    assert (row.consecutive_failures, row.last_error, row.updated_at) == (1, "bang", later)


def test_an_upsert_statement_is_built_once_and_run_with_parameters(dbsession):
    from banter_payments.outbox.models import OutboxSequence

    table = OutboxSequence.__table__
    statement = (db.upsert_statement(dbsession, table, ["aggregate_type", "aggregate_id"],
                                     {"last_sequence": table.c.last_sequence + 1})
                 .values(aggregate_type="order", aggregate_id=sa.bindparam("i"),
                         last_sequence=1)
                 .returning(table.c.last_sequence))
    results = [db.write(dbsession, statement, {"i": i}).scalar_one()
               for i in ("a", "b", "a", "a")]
    assert results == [1, 1, 2, 3]


def test_rows_written_counts_this_connections_writes(dbsession):
    from banter_payments.outbox.models import OutboxSequence

    table = OutboxSequence.__table__
    before = db.rows_written(dbsession)
    db.write(dbsession, table.insert(), [
        {"aggregate_type": "order", "aggregate_id": f"ord_{n}", "last_sequence": 1}
        for n in range(3)])
    db.write(dbsession, sa.update(table).where(table.c.aggregate_id == "ord_0")
             .values(last_sequence=2))
    dbsession.scalars(sa.select(table.c.aggregate_id)).all()
    assert db.rows_written(dbsession) - before == 4


def _as_utc(value):
    if isinstance(value, str):
        value = dt.datetime.fromisoformat(value)
    return value.replace(tzinfo=dt.UTC) if value.tzinfo is None else value.astimezone(dt.UTC)


def test_time_bucket_is_the_utc_hour_or_day(dbsession):
    from banter_payments.outbox.models import OutboxEndpointState

    table = OutboxEndpointState.__table__
    # 01:30 in India is 20:00 UTC the day before: the bucket is UTC's.
    when = dt.datetime(2026, 3, 2, 1, 30, 15, tzinfo=dt.timezone(dt.timedelta(hours=5.5)))
    db.write(dbsession, table.insert().values(endpoint="e", consecutive_failures=0,
                                              updated_at=when))
    hour, day = dbsession.execute(sa.select(
        db.time_bucket(dbsession, table.c.updated_at, "hour"),
        db.time_bucket(dbsession, table.c.updated_at, "day"))).one()
    assert _as_utc(hour) == dt.datetime(2026, 3, 1, 20, tzinfo=dt.UTC)
    assert _as_utc(day) == dt.datetime(2026, 3, 1, tzinfo=dt.UTC)


def test_computes_percentiles_exactly_where_the_database_can(dbsession):
    numbers = sa.union_all(*[sa.select(sa.literal(n).label("n")) for n in (5, 1, 9, 3)]) \
        .subquery()
    query = sa.select(sa.func.percentile_disc(0.5).within_group(numbers.c.n))
    try:
        with dbsession.begin_nested():
            median = dbsession.execute(query).scalar_one()
    except sa.exc.DBAPIError:
        median = None
    assert db.computes_percentiles(dbsession) is (median is not None)
    if median is not None:
        assert median == 3


def test_no_module_but_db_picks_sql_for_a_database():
    """A database's SQL is chosen in ``banter_payments/db.py`` only (its ``DIALECTS``):
    no other module imports a dialect's constructs, tells zope.sqlalchemy about a write
    itself (``db.write``, ``db.mark_written``) or asks for row locks (``db.locked``)."""
    root = pathlib.Path(__file__).resolve().parents[1]
    forbidden = re.compile(r"sqlalchemy\.dialects|\bmark_changed\b|with_for_update")
    offenders = []
    for package in ("banter_payments", "plugins"):
        for path in sorted((root / package).rglob("*.py")):
            if path == root / "banter_payments" / "db.py":
                continue
            for number, line in enumerate(path.read_text().splitlines(), 1):
                if forbidden.search(line):
                    offenders.append(f"{path.relative_to(root)}:{number}: {line.strip()}")
    assert offenders == []


def test_a_lock_wait_timeout_on_mariadb_is_retried_like_a_deadlock(engine):
    """1205 (and 1213, a deadlock) come out as ``RetryableOperationalError``: a
    ``TransientError``, so pyramid_retry replays the request and a job's transaction
    manager says to retry. (PostgreSQL's own retryable errors are zope.sqlalchemy's.)"""
    if engine.dialect.name != "mysql":
        pytest.skip("MariaDB's lock wait timeout")
    import pyramid_retry
    import pyramid_tm  # noqa: F401 (it marks TransientError retryable for pyramid_retry)
    import transaction

    from banter_payments.outbox.models import OutboxSequence

    table = OutboxSequence.__table__
    with engine.connect() as holder, engine.connect() as waiter:
        holder.execute(table.insert().values(aggregate_type="order", aggregate_id="o",
                                             last_sequence=1))
        holder.commit()
        holder.execute(sa.select(table).with_for_update())
        waiter.exec_driver_sql("SET SESSION innodb_lock_wait_timeout = 1")
        with pytest.raises(db.RetryableOperationalError) as caught:
            waiter.execute(sa.update(table).values(last_sequence=2))
        waiter.rollback()
        holder.rollback()
    assert caught.value.orig.args[0] == 1205
    assert isinstance(caught.value, sa.exc.OperationalError)  # still "database trouble"
    manager = transaction.TransactionManager(explicit=True)
    manager.begin()
    try:
        assert manager.get().isRetryableError(caught.value)
    finally:
        manager.abort()
    assert pyramid_retry.IRetryableError.providedBy(caught.value)


def test_an_advisory_lock_on_mariadb_is_held_until_the_connection_is_returned(engine):
    if engine.dialect.name != "mysql":
        pytest.skip("MariaDB's GET_LOCK")
    writer, _reader = db.session_factories(engine)
    first, second = writer(), writer()
    try:
        db.lock_key(first, "gift-sender:alice")
        free = "SELECT IS_FREE_LOCK(SHA1(CONCAT(CONVERT(DATABASE() USING utf8mb4), ':', " \
               "'gift-sender:alice')))"
        assert second.execute(sa.text(free)).scalar() == 0
        second.rollback()
        first.commit()  # the transaction ends, the connection goes back to the pool
        assert second.execute(sa.text(free)).scalar() == 1
    finally:
        first.close()
        second.close()


def test_a_keyset_page_forces_its_index_on_mariadb_only():
    """MariaDB reads ``account_id = :a AND id < :cursor ORDER BY id DESC`` as a lookup on
    the index's first column (every entry above the cursor) unless told (EXPLAIN: ``ref``,
    not ``range``); the other databases get no hint."""
    from sqlalchemy.dialects import mysql, postgresql, sqlite

    from banter_payments.ledger.models import Entry

    page = db.through_index(
        sa.select(Entry.id).where(Entry.account_id == 1, Entry.id < 9)
        .order_by(Entry.id.desc()).limit(21), Entry, "ix_ledger_entries_account_id_id")
    assert "FROM ledger_entries FORCE INDEX (ix_ledger_entries_account_id_id)" in str(
        page.compile(dialect=mysql.dialect()))
    for dialect in (postgresql.dialect(), sqlite.dialect()):
        assert "INDEX" not in str(page.compile(dialect=dialect))
