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

MySQL-family servers (MariaDB >= 10.6; ``mysql+pymysql://`` URLs) get utf8mb4, strict
mode, UTC sessions and READ COMMITTED, the isolation PostgreSQL runs at by default, which
the code is written against: under InnoDB's default REPEATABLE READ a plain SELECT after
waiting on a lock still reads the transaction's first snapshot (so an
insert-unless-present that found the row present could not read it), and locking reads
take gap locks that turn concurrent inserts of different keys into deadlocks.
``docs/mysql.md`` has the rest.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

import pymysql
import zope.sqlalchemy
from sqlalchemy import (
    Column,
    DateTime,
    Engine,
    Executable,
    Table,
    create_engine,
    event,
    exc,
    func,
    literal_column,
    select,
    text,
)
from sqlalchemy.dialects import mysql, postgresql, sqlite
from sqlalchemy.engine import Result, make_url
from sqlalchemy.ext.compiler import compiles
from sqlalchemy.orm import Session, sessionmaker
from transaction.interfaces import TransientError
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
    if url.startswith(("mysql", "mariadb")):
        return _make_mysql_engine(url, **kwargs)
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


# MySQL-family servers --------------------------------------------------------------------

# The oldest servers with everything the core needs: SKIP LOCKED (MariaDB 10.6) and
# INSERT ... RETURNING (MariaDB 10.5). MySQL has no INSERT ... RETURNING at all.
MARIADB_MINIMUM = (10, 6)
# Strict: a value that does not fit its column is an error, never silently cut or zeroed.
MYSQL_SQL_MODE = ("STRICT_ALL_TABLES,NO_ZERO_IN_DATE,NO_ZERO_DATE,"
                  "ERROR_FOR_DIVISION_BY_ZERO,NO_ENGINE_SUBSTITUTION")
# utf8mb4: all of Unicode (emoji included; MySQL's "utf8" stops at three bytes). Binary
# collation: text compares and is unique exactly as on PostgreSQL and SQLite, so "Key" and
# "key" are two idempotency keys, not one.
MYSQL_CHARSET = "utf8mb4"
MYSQL_COLLATION = "utf8mb4_bin"
# How long a transaction waits for a row lock or an advisory lock (seconds) before the
# server gives up with 1205, which is retried like a deadlock.
MYSQL_LOCK_WAIT_TIMEOUT = 20
# Server errors retried like PostgreSQL's serialization failures: 1213 deadlock (the
# server rolled the transaction back) and 1205 lock wait timeout.
MYSQL_RETRYABLE_ERRORS = frozenset({1205, 1213})
# A CHECK constraint that failed (MariaDB 4025, MySQL 3819): an integrity error, as on
# PostgreSQL, though PyMySQL does not know the codes.
MYSQL_CONSTRAINT_ERRORS = frozenset({3819, 4025})
_MYSQL_LOCKS = "banter_payments.advisory_locks"
_MYSQL_WRITTEN = "banter_payments.rows_written"
_WRITE_STATEMENT = re.compile(r"\s*(INSERT|UPDATE|DELETE|REPLACE)\b", re.IGNORECASE)
_INSERT_IGNORE = re.compile(r"\s*INSERT\s+IGNORE\b", re.IGNORECASE)


class UnsupportedServer(RuntimeError):
    """The database server is of a kind or version banter-payments does not run on."""


class RetryableOperationalError(exc.OperationalError, TransientError):
    """A deadlock or lock wait timeout on MySQL/MariaDB: the transaction is replayed
    (pyramid_retry for a request; ``tm.isRetryableError`` for a job) like a
    serialization failure on PostgreSQL."""


def check_mysql_server(version: str) -> None:
    """Refuse a server the core cannot run on, naming what it needs."""
    # MariaDB's handshake says "5.5.5-10.11.6-MariaDB" (for old replication clients).
    version = version.removeprefix("5.5.5-")
    numbers = tuple(int(part) for part in re.findall(r"\d+", version)[:2])
    if "mariadb" not in version.lower():
        raise UnsupportedServer(
            f"MySQL {version} is not supported: banter-payments needs INSERT ... RETURNING, "
            f"which MySQL lacks; use MariaDB {'.'.join(map(str, MARIADB_MINIMUM))} or newer")
    if numbers < MARIADB_MINIMUM:
        raise UnsupportedServer(
            f"MariaDB {version} is too old: banter-payments needs MariaDB "
            f"{'.'.join(map(str, MARIADB_MINIMUM))} or newer (SELECT ... SKIP LOCKED)")


def _make_mysql_engine(url: str, **kwargs: Any) -> Engine:
    parsed = make_url(url)
    if parsed.drivername in ("mysql", "mariadb"):
        parsed = parsed.set(drivername=f"{parsed.drivername}+pymysql")
    parsed = parsed.update_query_dict({"charset": MYSQL_CHARSET})
    kwargs.setdefault("pool_pre_ping", True)
    kwargs.setdefault("isolation_level", "READ COMMITTED")
    connect_args = kwargs.pop("connect_args", {})
    connect_args.setdefault("init_command", (
        f"SET NAMES {MYSQL_CHARSET} COLLATE {MYSQL_COLLATION}, time_zone = '+00:00', "
        f"sql_mode = '{MYSQL_SQL_MODE}', "
        f"innodb_lock_wait_timeout = {MYSQL_LOCK_WAIT_TIMEOUT}"))
    engine = create_engine(parsed, connect_args=connect_args, **kwargs)

    @event.listens_for(engine, "connect")
    def on_connect(dbapi_connection, _record):
        check_mysql_server(dbapi_connection.get_server_info())

    @event.listens_for(engine, "after_cursor_execute")
    def count_writes(conn, cursor, statement, _parameters, _context, _executemany):
        if not _WRITE_STATEMENT.match(statement):
            return
        if cursor.rowcount and cursor.rowcount > 0:
            conn.info[_MYSQL_WRITTEN] = conn.info.get(_MYSQL_WRITTEN, 0) + cursor.rowcount
        if cursor.warning_count and _INSERT_IGNORE.match(statement):
            _refuse_ignored_errors(conn, statement)

    @event.listens_for(engine, "handle_error")
    def retryable(context):
        original = context.original_exception
        code = original.args[0] if getattr(original, "args", None) else None
        if isinstance(context.sqlalchemy_exception, exc.OperationalError) \
                and code in MYSQL_RETRYABLE_ERRORS:
            return RetryableOperationalError(context.statement, context.parameters,
                                             original)
        if code in MYSQL_CONSTRAINT_ERRORS:
            return exc.IntegrityError(context.statement, context.parameters, original)
        return None

    @event.listens_for(engine.pool, "checkin")
    def release_locks(dbapi_connection, record):
        # Advisory locks on these servers belong to the connection, not the
        # transaction: released here, after the transaction ended, before another
        # transaction gets the connection.
        if record.info.pop(_MYSQL_LOCKS, False) and dbapi_connection is not None:
            cursor = dbapi_connection.cursor()
            try:
                cursor.execute("SELECT RELEASE_ALL_LOCKS()")
            finally:
                cursor.close()

    return engine


def _refuse_ignored_errors(conn, statement: str) -> None:
    """INSERT IGNORE skips a duplicate key (what it is for) but also turns other errors
    into warnings (a value cut to fit, a NULL made a default, a missing parent): those
    are raised here, as the error they would have been."""
    warnings = conn.exec_driver_sql("SHOW WARNINGS").all()
    others = [row for row in warnings if int(row[1]) != 1062]
    if others:
        _level, code, message = others[0][:3]
        raise exc.IntegrityError(statement, None, pymysql.err.IntegrityError(code, message))


@compiles(DateTime, "mysql")
@compiles(DateTime, "mariadb")
def _mysql_datetime(element, compiler, **kw):
    """Every timestamp to the microsecond (a bare DATETIME keeps whole seconds); UTC, as
    the sessions' time zone is."""
    return "DATETIME(6)"


def prepare_database(connection) -> None:
    """Before the migrations create tables: on MySQL-family servers, make utf8mb4 with
    binary collation the database's default, which every table then inherits."""
    if connection.dialect.name in ("mysql", "mariadb"):
        connection.exec_driver_sql(
            f"ALTER DATABASE CHARACTER SET {MYSQL_CHARSET} COLLATE {MYSQL_COLLATION}")
        # End the transaction this statement began: Alembic would otherwise take it for
        # the caller's and never commit it, losing the version table's row (the DDL
        # itself commits on these servers).
        connection.commit()


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
    or an ORM entity; the caller adds ``.values`` and ``.returning``). On MySQL-family
    servers, a conflict on any unique key of the table (``INSERT IGNORE``, with every
    other error it would downgrade raised: see ``_refuse_ignored_errors``).
    ``advisory_lock``: SQL taking a lock on a string key (``:key``) until the transaction
    ends, or None when the database's write lock already serializes writers; it may
    return 0 for "timed out", which is retried like a deadlock.
    ``session_locks``: whether that lock belongs to the connection rather than the
    transaction (MySQL's GET_LOCK), so it is released when the connection goes back to
    the pool, after the transaction ended.
    ``upsert(target, conflict_columns, set_)``: ``INSERT INTO target`` that, when a row
    with the same ``conflict_columns`` exists, updates that row with ``set_`` instead.
    ``rows_written(session)``: this connection's (PostgreSQL: this transaction's)
    running count of rows written, or None when the database keeps none.
    ``time_bucket(column, bucket)``: the UTC hour or day (``bucket``) a timestamp column
    falls in, as a value to group by.
    ``percentile_disc``: whether the database computes ``percentile_disc(p) WITHIN
    GROUP (ORDER BY ...)``; where it does not, the caller ranks the values itself.
    ``update_returning``: whether the database has ``UPDATE ... RETURNING``; where it
    does not, ``update_returning`` locks the rows, updates them and reads them back.
    ``serialize_inserts``: whether ``insert_unless_present`` first takes an advisory
    lock on the row's key and reads before inserting. InnoDB's duplicate-key check takes
    a shared lock on the row found, and two transactions holding it that then lock the
    row for update deadlock each other (a burst of requests with one idempotency key
    does exactly that); PostgreSQL's ON CONFLICT takes no such lock.
    ``notify``: SQL sending a notification on ``:channel`` when the transaction commits
    (PostgreSQL's ``NOTIFY``), or None where the database has none (workers of other
    processes then find the work at their next poll); see ``listen``.
    (``FOR UPDATE [SKIP LOCKED]`` needs no entry: SQLAlchemy renders it for the
    databases that have row locks and leaves it out for SQLite, and leaves out ``OF``
    where the database has none (MariaDB: the rows of every joined table are locked);
    see ``locked``.)
    """

    insert_ignoring: Callable[[Any, Sequence[str]], Any]
    advisory_lock: str | None
    upsert: Callable[[Any, Sequence[str], dict[str, Any]], Any]
    rows_written: Callable[[Session], int | None]
    time_bucket: Callable[[Any, str], Any]
    percentile_disc: bool
    notify: str | None = None
    update_returning: bool = True
    session_locks: bool = False
    serialize_inserts: bool = False


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


def _insert_ignore(target: Any, conflict_columns: Sequence[str]) -> Any:
    return mysql.insert(target).prefix_with("IGNORE")


def _on_duplicate_key_update(target: Any, conflict_columns: Sequence[str],
                             set_: dict[str, Any]) -> Any:
    # ``set_`` expressions on the table's columns read the existing row, as they do in
    # PostgreSQL's DO UPDATE.
    return mysql.insert(target).on_duplicate_key_update(set_)


def _date_format_bucket(column: Any, bucket: str) -> Any:
    # DATETIME(6) columns hold naive UTC (the sessions' time zone is UTC).
    pattern = "%Y-%m-%d %H:00:00" if bucket == "hour" else "%Y-%m-%d 00:00:00"
    return func.date_format(column, pattern)


def _counted_by_sql(sql: str) -> Callable[[Session], int | None]:
    def count(session: Session) -> int | None:
        return int(session.execute(text(sql)).scalar_one())

    return count


def _counted_by_driver(session: Session) -> int | None:
    # Rows the connection's INSERT/UPDATE/DELETE statements reported (the server keeps
    # no such count: its Handler_write counts an INSERT IGNORE that skipped a row).
    return session.connection().info.get(_MYSQL_WRITTEN, 0)


DIALECTS: dict[str, Dialect] = {
    "postgresql": Dialect(
        insert_ignoring=_on_conflict_do_nothing(postgresql.insert),
        advisory_lock="SELECT pg_advisory_xact_lock(hashtextextended(:key, 0))",
        upsert=_on_conflict_do_update(postgresql.insert),
        rows_written=_counted_by_sql(
            "SELECT coalesce(sum(n_tup_ins + n_tup_upd + n_tup_del), 0) "
            "FROM pg_stat_xact_user_tables"),
        time_bucket=_date_trunc_utc,
        percentile_disc=True,
        notify="SELECT pg_notify(:channel, '')",
    ),
    # SQLite has no row locks: its writers are serialized by BEGIN IMMEDIATE, which is
    # as much as an advisory lock or FOR UPDATE would give.
    "sqlite": Dialect(insert_ignoring=_on_conflict_do_nothing(sqlite.insert),
                      advisory_lock=None,
                      upsert=_on_conflict_do_update(sqlite.insert),
                      rows_written=_counted_by_sql("SELECT total_changes()"),
                      time_bucket=_strftime_bucket,
                      percentile_disc=False),
    # MariaDB (MySQL itself is refused at connect: ``check_mysql_server``). GET_LOCK is
    # server-wide, so the key is hashed with the database's name (and fits its 64
    # characters); PERCENTILE_DISC exists there only as a window function.
    "mysql": Dialect(
        insert_ignoring=_insert_ignore,
        advisory_lock="SELECT GET_LOCK(SHA1(CONCAT(CONVERT(DATABASE() USING utf8mb4), ':', "
                      ":key)), "
                      f"{MYSQL_LOCK_WAIT_TIMEOUT})",
        session_locks=True,
        upsert=_on_duplicate_key_update,
        rows_written=_counted_by_driver,
        time_bucket=_date_format_bucket,
        percentile_disc=False,
        update_returning=False,
        serialize_inserts=True,
    ),
}
# ``mariadb://`` URLs name the same dialect.
DIALECTS_BY_NAME = {**DIALECTS, "mariadb": DIALECTS["mysql"]}


def dialect_of(session: Session) -> Dialect:
    name = session.get_bind().dialect.name
    try:
        return DIALECTS_BY_NAME[name]
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
    if conflict_columns and dialect_of(session).serialize_inserts:
        lock_key(session, "\x1f".join(["insert", table.fullname,
                                        *(str(values[c]) for c in conflict_columns)]))
        present = session.execute(
            select(literal_column("1")).select_from(table)
            .where(*(table.c[c] == values[c] for c in conflict_columns))).first()
        if present is not None:
            return None
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
    return dialect_of(session).rows_written(session)


def time_bucket(session: Session, column: Any, bucket: str) -> Any:
    """A SQL expression naming the UTC ``bucket`` ("hour" or "day") ``column`` falls
    in; its values are datetimes or ISO text, whichever the database gives."""
    return dialect_of(session).time_bucket(column, bucket)


def computes_percentiles(session: Session) -> bool:
    """Whether the database computes ``percentile_disc ... WITHIN GROUP``."""
    return dialect_of(session).percentile_disc


def update_returning(session: Session, statement: Any, *columns: Any) -> Any:
    """Run a conditional UPDATE and return the first row it changed (None when its WHERE
    matched nothing: the condition did not hold). ``UPDATE ... RETURNING`` where the
    database has it; elsewhere (MariaDB) the rows the WHERE matches are locked first
    (``FOR UPDATE``, so the condition still holds when the UPDATE runs), updated, and
    read back by primary key."""
    if dialect_of(session).update_returning:
        return write(session, statement.returning(*columns)).first()
    table = statement.table
    keys = list(table.primary_key.columns)
    query = select(*keys)
    if statement.whereclause is not None:
        query = query.where(statement.whereclause)
    matched = session.execute(locked(query)).all()
    if not matched:
        return None
    write(session, statement)
    first = [key == value for key, value in zip(keys, matched[0], strict=True)]
    return session.execute(select(*columns).where(*first)).first()


def lock_key(session: Session, key: str) -> None:
    """Let one transaction at a time past this point for ``key``, until it ends.

    It guards a check-then-insert, not a row, so nothing else waits on it: a
    transaction-level advisory lock where the database has one.
    """
    dialect = dialect_of(session)
    if dialect.advisory_lock is None:
        return
    if not dialect.session_locks:
        session.execute(text(dialect.advisory_lock), {"key": key})
        return
    session.connection().info[_MYSQL_LOCKS] = True
    acquired = session.execute(text(dialect.advisory_lock), {"key": key}).scalar()
    if acquired != 1:
        raise RetryableOperationalError(
            dialect.advisory_lock, {"key": key},
            pymysql.err.OperationalError(1205, f"lock wait timeout on {key!r}"))


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


def through_index(query: Any, target: Any, index_name: str) -> Any:
    """``query`` reading ``target`` through ``index_name`` on the databases whose planner
    needs telling. For a keyset page (``WHERE account_id = :a AND id < :cursor ORDER BY
    id DESC LIMIT n``) MariaDB picks the ``(account_id, id)`` index as a lookup on its
    first column and filters ``id`` row by row, reading every entry above the cursor;
    forced, it reads the range, n rows at any depth. PostgreSQL and SQLite need no hint
    (the hint is rendered for MySQL-family servers only)."""
    for name in ("mysql", "mariadb"):
        query = query.with_hint(target, f"FORCE INDEX ({index_name})", dialect_name=name)
    return query
