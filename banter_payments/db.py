"""Engines and sessions: one SQLAlchemy session per request, joined to its transaction.

The request's session is registered with ``request.tm`` (pyramid_tm with an explicit
manager), so it commits when the view returns and rolls back when it raises; nobody calls
``commit()`` by hand. pyramid_retry replays the whole request on a serialization failure
or a deadlock (zope.sqlalchemy marks those retryable).

SQLite is the embedded default and gets what makes it behave under concurrent writers:
WAL, a busy timeout, foreign keys, and ``BEGIN IMMEDIATE`` for transactions that will
write. Without the last one a transaction that read first and writes later fails at once
(SQLITE_BUSY, no waiting) whenever another connection wrote in between, which is exactly
what happens when the sandbox delivers a webhook while a client is calling the API.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

import zope.sqlalchemy
from sqlalchemy import (
    Column,
    Engine,
    Executable,
    Table,
    create_engine,
    event,
    func,
    literal_column,
    text,
)
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.engine import Result
from sqlalchemy.orm import Session, sessionmaker
from zope.sqlalchemy import mark_changed

SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})
# Where a session joined to a transaction manager keeps it (``session.info``).
TRANSACTION_MANAGER = "banter_payments.transaction_manager"


def pool_options(settings) -> dict[str, Any]:
    """The app engine's pool from settings: at most ``pool_size + max_overflow``
    connections, and a request waits ``pool_timeout`` seconds for one before it is
    answered 503 (``banter_payments.errors``)."""
    return {"pool_size": settings["sqlalchemy.pool_size"],
            "max_overflow": settings["sqlalchemy.max_overflow"],
            "pool_timeout": settings["sqlalchemy.pool_timeout"]}


def make_engine(url: str, *, sqlite_busy_timeout_ms: int = 10_000, **kwargs: Any) -> Engine:
    if url.startswith("sqlite"):
        return _make_sqlite_engine(url, sqlite_busy_timeout_ms, **kwargs)
    kwargs.setdefault("pool_pre_ping", True)
    return create_engine(url, **kwargs)


def _make_sqlite_engine(url: str, busy_timeout_ms: int, **kwargs: Any) -> Engine:
    connect_args = kwargs.pop("connect_args", {})
    # isolation_level=None hands transaction control to the "begin" hook below.
    connect_args.update(check_same_thread=False, isolation_level=None)
    if ":memory:" in url or url in ("sqlite://", "sqlite:///"):
        raise ValueError("an in-memory SQLite database cannot be shared; use a file")
    engine = create_engine(url, connect_args=connect_args, **kwargs)

    @event.listens_for(engine, "connect")
    def on_connect(dbapi_connection, _record):
        cursor = dbapi_connection.cursor()
        cursor.execute("PRAGMA journal_mode=WAL")
        cursor.execute(f"PRAGMA busy_timeout={int(busy_timeout_ms)}")
        cursor.execute("PRAGMA foreign_keys=ON")
        cursor.execute("PRAGMA synchronous=NORMAL")
        cursor.close()

    @event.listens_for(engine, "begin")
    def on_begin(connection):
        mode = connection.get_execution_options().get("sqlite_begin", "IMMEDIATE")
        connection.exec_driver_sql(f"BEGIN {mode}")

    return engine


def session_factories(engine: Engine) -> tuple[sessionmaker, sessionmaker]:
    """(writer, reader) session factories for one engine.

    On SQLite the reader begins DEFERRED (readers never wait in WAL mode) and the writer
    IMMEDIATE; on other databases both are the same.
    """
    writer = sessionmaker(bind=engine, expire_on_commit=False)
    if engine.dialect.name != "sqlite":
        return writer, writer
    reader_bind = engine.execution_options(sqlite_begin="DEFERRED")
    reader = sessionmaker(bind=reader_bind, expire_on_commit=False)
    return writer, reader


def get_tm_session(factory: sessionmaker, transaction_manager) -> Session:
    """A session joined to ``transaction_manager``: committed or aborted with it."""
    session = factory()
    zope.sqlalchemy.register(session, transaction_manager=transaction_manager)
    session.info[TRANSACTION_MANAGER] = transaction_manager
    return session


def _dbsession(request) -> Session:
    writer, reader = request.registry["banter_payments.session_factories"]
    factory = reader if request.method in SAFE_METHODS else writer
    return get_tm_session(factory, request.tm)


def includeme(config) -> None:
    settings = config.registry.settings
    engine = make_engine(
        settings["sqlalchemy.url"],
        sqlite_busy_timeout_ms=settings["sqlalchemy.sqlite_busy_timeout_ms"],
        **pool_options(settings),
    )
    config.registry["banter_payments.engine"] = engine
    config.registry["banter_payments.session_factories"] = session_factories(engine)
    config.add_request_method(_dbsession, "dbsession", reify=True)


# Writing inside a transaction-managed session, one idiom each.
#
# Every SQL construct that differs between databases is chosen here, from the ``DIALECTS``
# table, and nowhere else: a third database (MySQL) is one more entry in that table.


@dataclass(frozen=True)
class Dialect:
    """How one database spells what the core needs.

    ``insert_ignoring(target, conflict_columns)``: ``INSERT INTO target`` that does
    nothing when a row with the same ``conflict_columns`` exists (``target`` is a table
    or an ORM entity; the caller adds ``.values`` and ``.returning``).
    ``advisory_lock``: SQL taking a transaction-scoped lock on a string key, or None
    when the database's write lock already serializes writers.
    ``upsert(target, conflict_columns, set_)``: ``INSERT INTO target`` that, when a row
    with the same ``conflict_columns`` exists, updates that row with ``set_`` instead.
    ``rows_written``: SQL reading this connection's (PostgreSQL: this transaction's)
    running count of rows written, or None when the database keeps none.
    ``time_bucket(column, bucket)``: the UTC hour or day (``bucket``) a timestamp column
    falls in, as a value to group by.
    ``percentile_disc``: whether the database computes ``percentile_disc(p) WITHIN
    GROUP (ORDER BY ...)``; where it does not, the caller ranks the values itself.
    (``FOR UPDATE [SKIP LOCKED]`` needs no entry: SQLAlchemy renders it for the
    databases that have row locks and leaves it out for SQLite; see ``locked``.)
    ``notify``: SQL sending a notification on ``:channel`` when the transaction commits
    (PostgreSQL's ``NOTIFY``), or None where the database has none (workers of other
    processes then find the work at their next poll); see ``listen``.
    """

    insert_ignoring: Callable[[Any, Sequence[str]], Any]
    advisory_lock: str | None
    upsert: Callable[[Any, Sequence[str], dict[str, Any]], Any]
    rows_written: str | None
    time_bucket: Callable[[Any, str], Any]
    percentile_disc: bool
    notify: str | None = None


def _on_conflict_do_nothing(
        insert: Callable[[Any], Any]) -> Callable[[Any, Sequence[str]], Any]:
    def build(target: Any, conflict_columns: Sequence[str]) -> Any:
        # No conflict columns: a conflict on any unique constraint of the table.
        return insert(target).on_conflict_do_nothing(
            index_elements=list(conflict_columns) or None)

    return build


def _on_conflict_do_update(
        insert: Callable[[Any], Any]) -> Callable[[Any, Sequence[str], dict[str, Any]], Any]:
    def build(target: Any, conflict_columns: Sequence[str], set_: dict[str, Any]) -> Any:
        return insert(target).on_conflict_do_update(
            index_elements=list(conflict_columns), set_=set_)

    return build


def _date_trunc_utc(column: Any, bucket: str) -> Any:
    return func.date_trunc(bucket, func.timezone("UTC", column))


def _strftime_bucket(column: Any, bucket: str) -> Any:
    # SQLite keeps timestamps as naive UTC text (``models.meta.TZDateTime``).
    pattern = "%Y-%m-%d %H:00:00" if bucket == "hour" else "%Y-%m-%d 00:00:00"
    return func.strftime(pattern, column)


DIALECTS: dict[str, Dialect] = {
    "postgresql": Dialect(
        insert_ignoring=_on_conflict_do_nothing(postgresql.insert),
        advisory_lock="SELECT pg_advisory_xact_lock(hashtextextended(:key, 0))",
        upsert=_on_conflict_do_update(postgresql.insert),
        rows_written="SELECT coalesce(sum(n_tup_ins + n_tup_upd + n_tup_del), 0) "
                     "FROM pg_stat_xact_user_tables",
        time_bucket=_date_trunc_utc,
        percentile_disc=True,
        notify="SELECT pg_notify(:channel, '')",
    ),
    # SQLite has no row locks: its writers are serialized by BEGIN IMMEDIATE, which is
    # as much as an advisory lock or FOR UPDATE would give.
    "sqlite": Dialect(insert_ignoring=_on_conflict_do_nothing(sqlite.insert),
                      advisory_lock=None,
                      upsert=_on_conflict_do_update(sqlite.insert),
                      rows_written="SELECT total_changes()",
                      time_bucket=_strftime_bucket,
                      percentile_disc=False),
}


def dialect_of(session: Session) -> Dialect:
    name = session.get_bind().dialect.name
    try:
        return DIALECTS[name]
    except KeyError:
        raise RuntimeError(f"banter-payments supports {', '.join(DIALECTS)}, "
                           f"not {name}") from None


def write(session: Session, statement: Executable,
          parameters: dict[str, Any] | list[dict[str, Any]] | None = None) -> Result:
    """Execute a Core INSERT/UPDATE/DELETE and mark the session as changed when it is
    joined to a transaction manager (``get_tm_session``).

    zope.sqlalchemy commits a session only when it knows the session wrote: an ORM flush
    tells it, a Core statement run through ``session.execute`` does not, and without
    ``mark_changed`` a transaction whose only writes are statements is rolled back as
    read-only.
    """
    result = session.execute(statement, parameters)
    mark_written(session)
    return result


def mark_written(session: Session) -> None:
    """Tell the session's transaction manager to commit it, not roll it back as
    read-only. Only for sessions joined to one (``get_tm_session``): a plain session,
    running a short transaction of its own, commits itself."""
    manager = session.info.get(TRANSACTION_MANAGER)
    if manager is not None:
        mark_changed(session, transaction_manager=manager)


# Built once per (dialect, target, conflict columns, returning) and executed with the row
# as parameters, so SQLAlchemy neither rebuilds nor re-keys a statement per call.
_INSERTS: dict[tuple, Executable] = {}


def insert_ignoring_conflict(session: Session, target: Any,
                             conflict_columns: Sequence[str]) -> Any:
    """``INSERT INTO target ... ON CONFLICT (conflict_columns) DO NOTHING``, for the
    session's database; ``target`` is a Table or an ORM entity. Add ``.values`` and
    ``.returning`` and run it with ``write``."""
    return dialect_of(session).insert_ignoring(target, conflict_columns)


def insert_unless_present(session: Session, table: Table, values: dict[str, Any],
                          conflict_columns: Sequence[str],
                          returning: Column | None = None) -> Any:
    """Insert one row unless a row with the same ``conflict_columns`` exists.

    This is how two concurrent reports of the same fact end up as one row: on PostgreSQL
    the second insert waits for the first transaction and then does nothing; on SQLite
    writers are serialized anyway. Returns the ``returning`` column's value of the
    inserted row (or True when no column is asked for), and None when a row was there.
    RETURNING rather than rowcount: SQLAlchemy does not promise an INSERT's rowcount.
    """
    name = session.get_bind().dialect.name
    key = (name, table.fullname, tuple(conflict_columns),
           None if returning is None else returning.key)
    statement = _INSERTS.get(key)
    if statement is None:
        marker = returning if returning is not None else literal_column("1")
        statement = insert_ignoring_conflict(session, table, conflict_columns) \
            .returning(marker)
        _INSERTS[key] = statement
    inserted = write(session, statement, values).scalar_one_or_none()
    if returning is None:
        return True if inserted is not None else None
    return inserted


def upsert_statement(session: Session, target: Any, conflict_columns: Sequence[str],
                     set_: dict[str, Any]) -> Any:
    """``INSERT INTO target ... ON CONFLICT (conflict_columns) DO UPDATE SET set_`` for
    the session's database; add ``.values`` and ``.returning`` and run it with ``write``.
    For a statement built once and run many times (bind parameters in ``.values``)."""
    return dialect_of(session).upsert(target, conflict_columns, set_)


def upsert(session: Session, table: Table, values: dict[str, Any],
           conflict_columns: Sequence[str], set_: dict[str, Any],
           returning: Column | None = None) -> Any:
    """Insert one row, or, when a row with the same ``conflict_columns`` exists, update
    that row with ``set_`` (values or SQL expressions such as ``table.c.count + 1``).

    One statement, so two concurrent upserts of the same key never both insert: on
    PostgreSQL the second waits for the first and then updates what it wrote. Returns the
    ``returning`` column's value of the row inserted or updated (None when no column is
    asked for).
    """
    statement = upsert_statement(session, table, conflict_columns, set_).values(**values)
    if returning is None:
        write(session, statement)
        return None
    return write(session, statement.returning(returning)).scalar_one()


def rows_written(session: Session) -> int | None:
    """The running count of rows written on the session's connection (on PostgreSQL:
    in its transaction), for telling a write from a no-op by difference; None when the
    database keeps no such count."""
    sql = dialect_of(session).rows_written
    if sql is None:
        return None
    return int(session.execute(text(sql)).scalar_one())


def time_bucket(session: Session, column: Any, bucket: str) -> Any:
    """A SQL expression naming the UTC ``bucket`` ("hour" or "day") ``column`` falls
    in; its values are datetimes or ISO text, whichever the database gives."""
    return dialect_of(session).time_bucket(column, bucket)


def computes_percentiles(session: Session) -> bool:
    """Whether the database computes ``percentile_disc ... WITHIN GROUP``."""
    return dialect_of(session).percentile_disc


def update_returning(session: Session, statement: Any, *columns: Any) -> Any:
    """Run a conditional UPDATE and return the first row it changed (None when its WHERE
    matched nothing: the condition did not hold). ``UPDATE ... RETURNING`` on every
    database the core supports; a database without it would read the row back here."""
    return write(session, statement.returning(*columns)).first()


def lock_key(session: Session, key: str) -> None:
    """Let one transaction at a time past this point for ``key``, until it ends.

    It guards a check-then-insert, not a row, so nothing else waits on it: a
    transaction-level advisory lock where the database has one.
    """
    sql = dialect_of(session).advisory_lock
    if sql is not None:
        session.execute(text(sql), {"key": key})


def locked(query: Any, *, skip_locked: bool = False, of: Any = None) -> Any:
    """``query`` with ``FOR UPDATE`` (``SKIP LOCKED`` to claim rows other workers do not
    hold). SQLAlchemy renders it only where the database has row locks; SQLite's
    writers are already serialized."""
    options: dict[str, Any] = {"skip_locked": skip_locked}
    if of is not None:
        options["of"] = of
    return query.with_for_update(**options)


def notify_on_commit(session: Session, channel: str) -> None:
    """Wake the listeners of ``channel`` (``listen``) when this transaction commits;
    nothing where the database has no notifications."""
    sql = dialect_of(session).notify
    if sql is not None:
        session.execute(text(sql), {"channel": channel})


def supports_listen(engine: Engine) -> bool:
    return DIALECTS.get(engine.dialect.name, _NO_NOTIFY).notify is not None


_NO_NOTIFY = DIALECTS["sqlite"]
LISTEN_RECONNECT_SECONDS = 5.0


def listen(engine: Engine, channels: Sequence[str], on_notify: Callable[[str], None],
           stop: Any, *, timeout: float = 1.0,
           on_listening: Callable[[], None] | None = None) -> None:
    """Call ``on_notify(channel)`` for each notification on ``channels`` until ``stop``
    (a ``threading.Event``) is set (PostgreSQL ``LISTEN``, on a connection of its own,
    taken out of the pool for good). A lost connection is logged and opened again after
    ``LISTEN_RECONNECT_SECONDS``; meanwhile the caller's polling finds the work. Each
    (re)connection calls ``on_listening`` and then ``on_notify`` once per channel, for
    whatever was notified while nobody listened."""
    import logging

    log = logging.getLogger(__name__)
    while not stop.is_set():
        conn = None
        try:
            raw = engine.raw_connection()
            conn = raw.driver_connection
            raw.detach()
            conn.autocommit = True
            for channel in channels:
                conn.execute(f'LISTEN "{channel}"')
            if on_listening is not None:
                on_listening()
            for channel in channels:
                on_notify(channel)
            while not stop.is_set():
                for note in conn.notifies(timeout=timeout):
                    on_notify(note.channel)
        except Exception:
            if stop.is_set():
                break
            log.warning("LISTEN %s lost; polling until it is back", ", ".join(channels),
                        exc_info=True)
            stop.wait(LISTEN_RECONNECT_SECONDS)
        finally:
            if conn is not None:
                try:
                    conn.close()
                except Exception:
                    pass
