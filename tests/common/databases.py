"""The test run's own databases: created per run (and per xdist worker), emptied between
tests, dropped at the end.

PostgreSQL or MariaDB: ``--database-url`` names a server and a database to connect to for
administration; the run creates a sibling database with a unique name, migrates it, and
drops it when the run ends, so two runs at once (two clones, CI and a developer) never
touch each other's rows. SQLite: a fresh file in pytest's temporary directory.

Between tests only the tables a test wrote to are emptied (one query finds them), and
PostgreSQL's sequences restart, instead of truncating every table after every test:
``TRUNCATE`` of all tables costs about 0.2 s on PostgreSQL, the probe a few milliseconds.
"""

from __future__ import annotations

import re
import time
import uuid
from pathlib import Path

import sqlalchemy as sa
from alembic import command
from alembic.config import Config
from sqlalchemy.engine import make_url

ROOT = Path(__file__).resolve().parents[2]


def alembic_upgrade(url: str) -> None:
    """Build the schema the way production does: the project's migrations to head."""
    cfg = Config()
    cfg.set_main_option("script_location", str(ROOT / "migrations"))
    cfg.cmd_opts = type("Opts", (), {"x": [f"url={url}"]})()
    command.upgrade(cfg, "head")


def unique_database_name(base: str | None, run_id: str | None = None,
                         worker: str | None = None) -> str:
    """``<base>_t<run>[_<worker>]``, lower case, within PostgreSQL's 63 characters; the
    base is the admin URL's database name (``banter_test`` for ``postgres`` and
    ``mysql``, the servers' own)."""
    if not base or base in ("postgres", "mysql"):
        base = "banter_test"
    base = re.sub(r"[^a-z0-9_]", "_", base.lower())[:30]
    run = re.sub(r"[^a-z0-9]", "", (run_id or uuid.uuid4().hex).lower())[:12]
    name = f"{base}_t{run}"
    if worker and worker != "master":
        name += "_" + re.sub(r"[^a-z0-9]", "", worker.lower())
    return name


def is_mysql(url: str) -> bool:
    return url.startswith(("mysql", "mariadb"))


def _admin_engine(admin_url: str) -> sa.Engine:
    if is_mysql(admin_url):
        from banter_payments.db import make_engine

        return make_engine(admin_url, isolation_level="AUTOCOMMIT")
    return sa.create_engine(admin_url, isolation_level="AUTOCOMMIT")


def create_database(admin_url: str, name: str) -> str:
    """Create ``name`` on the server of ``admin_url`` (PostgreSQL or MariaDB); return its
    URL."""
    engine = _admin_engine(admin_url)
    try:
        with engine.connect() as conn:
            if is_mysql(admin_url):
                conn.exec_driver_sql(f"CREATE DATABASE `{name}` "
                                     "CHARACTER SET utf8mb4 COLLATE utf8mb4_bin")
            else:
                conn.exec_driver_sql(f'CREATE DATABASE "{name}"')
    finally:
        engine.dispose()
    return make_url(admin_url).set(database=name).render_as_string(hide_password=False)


def drop_database(admin_url: str, name: str) -> None:
    engine = _admin_engine(admin_url)
    try:
        with engine.connect() as conn:
            if is_mysql(admin_url):
                conn.exec_driver_sql(f"DROP DATABASE IF EXISTS `{name}`")
            else:
                conn.exec_driver_sql(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
    finally:
        engine.dispose()


# The names the PostgreSQL-only suite used.
create_postgresql_database = create_database
drop_postgresql_database = drop_database


class TableCleaner:
    """Empties the tables of one database that a test left rows in."""

    def __init__(self, engine: sa.Engine, tables: list[sa.Table]) -> None:
        self.engine = engine
        # Children before parents, so plain DELETEs never trip a foreign key.
        self.tables = [table for table in reversed(tables) if _exists(engine, table.name)]
        quote = engine.dialect.identifier_preparer.quote
        self.mysql = engine.dialect.name in ("mysql", "mariadb")
        dual = " FROM DUAL" if self.mysql else ""
        self.probe = " UNION ALL ".join(
            f"SELECT '{table.name}'{dual} WHERE EXISTS (SELECT 1 FROM {quote(table.name)})"
            for table in self.tables
        )
        self.quoted = {table.name: quote(table.name) for table in self.tables}
        self.autoincrement = {table.name for table in self.tables
                              if table.autoincrement_column is not None}

    def clean(self, attempts: int = 5) -> list[str]:
        """Empty every non-empty table; return their names.

        A worker thread of the test's app may still be finishing a transaction (the
        browser tests' apps run theirs); a deadlock with it is tried again."""
        for attempt in range(1, attempts + 1):
            try:
                return self._clean()
            except sa.exc.DBAPIError as exc:
                if attempt == attempts or not _is_deadlock(exc):
                    raise
                time.sleep(0.05 * attempt)
        raise AssertionError("unreachable")

    def _clean(self) -> list[str]:
        if not self.tables:
            return []
        with self.engine.begin() as conn:
            dirty = {row[0] for row in conn.exec_driver_sql(self.probe)}
            if self.mysql and dirty:
                # InnoDB checks a self-referencing key row by row (orders retried from
                # orders), where PostgreSQL checks at the statement's end.
                conn.exec_driver_sql("SET foreign_key_checks = 0")
            for table in self.tables:
                if table.name in dirty:
                    conn.exec_driver_sql(f"DELETE FROM {self.quoted[table.name]}")
            if self.engine.dialect.name == "postgresql":
                # What TRUNCATE ... RESTART IDENTITY did: every test starts its ids at 1.
                conn.exec_driver_sql(
                    "SELECT setval(c.oid, 1, false) FROM pg_class c "
                    "JOIN pg_namespace n ON n.oid = c.relnamespace "
                    "WHERE c.relkind = 'S' AND n.nspname = current_schema()")
            if self.mysql and dirty:
                conn.exec_driver_sql("SET foreign_key_checks = 1")
                # What TRUNCATE did (which foreign keys forbid): ids start at 1 again.
                for name in dirty & self.autoincrement:
                    conn.exec_driver_sql(
                        f"ALTER TABLE {self.quoted[name]} AUTO_INCREMENT = 1")
        return sorted(dirty)


def _is_deadlock(exc: sa.exc.DBAPIError) -> bool:
    # PostgreSQL's SQLSTATE 40P01; InnoDB's errors 1213 (deadlock) and 1205 (lock wait)
    code = getattr(exc.orig, "sqlstate", None) or (getattr(exc.orig, "args", None) or [None])[0]
    return code in ("40P01", 1213, 1205)


def _exists(engine: sa.Engine, name: str) -> bool:
    return sa.inspect(engine).has_table(name)
