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

from typing import Any

import zope.sqlalchemy
from sqlalchemy import Engine, create_engine, event
from sqlalchemy.orm import Session, sessionmaker

SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})


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
