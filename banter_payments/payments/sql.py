"""SQL helpers for writing with Core statements inside a transaction-managed session.

Core ``INSERT``/``UPDATE`` statements run through ``session.execute`` are invisible to
zope.sqlalchemy, which commits a session only when it knows the session wrote (an ORM
flush tells it; a Core statement does not) and otherwise rolls it back as read-only.
``write`` runs a statement and says so (``mark_changed``), so a transaction whose only
writes are conditional UPDATEs still commits.

The idiom every door into the state machine relies on is insert unless present.

``INSERT ... ON CONFLICT DO NOTHING`` is how two concurrent reports of the same payment (or
two deliveries of the same webhook) end up as one row: on PostgreSQL the second insert
waits for the first transaction and then does nothing; on SQLite writers are serialized
anyway (``BEGIN IMMEDIATE``). Both dialects spell it the same way in SQLAlchemy, but the
construct must come from the dialect in use.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from sqlalchemy import Column, Executable, Table, literal_column
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.engine import Result
from sqlalchemy.orm import Session
from zope.sqlalchemy import mark_changed

_INSERTS = {"postgresql": postgresql.insert, "sqlite": sqlite.insert}
# Built once per (dialect, table, conflict columns, returning) and executed with the row
# as parameters, so SQLAlchemy neither rebuilds nor re-keys a statement per call.
_STATEMENTS: dict[tuple, Executable] = {}


def _insert_statement(dialect: str, table: Table, conflict_columns: tuple[str, ...],
                      returning: Column | None) -> Executable:
    key = (dialect, table.fullname, conflict_columns,
           None if returning is None else returning.key)
    statement = _STATEMENTS.get(key)
    if statement is None:
        try:
            insert = _INSERTS[dialect]
        except KeyError:
            raise RuntimeError(f"no INSERT ... ON CONFLICT support for {dialect}") from None
        # RETURNING, not rowcount: SQLAlchemy does not promise an INSERT's rowcount (-1
        # with psycopg unless asked to keep it); RETURNING says the same on both dialects.
        marker = returning if returning is not None else literal_column("1")
        # No conflict columns: any unique constraint of the table (ON CONFLICT DO NOTHING).
        statement = insert(table).on_conflict_do_nothing(
            index_elements=list(conflict_columns) or None
        ).returning(marker)
        _STATEMENTS[key] = statement
    return statement


def insert_unless_present(session: Session, table: Table, values: dict[str, Any],
                          conflict_columns: Sequence[str],
                          returning: Column | None = None) -> Any:
    """Insert one row unless a row with the same ``conflict_columns`` exists.

    Returns the ``returning`` column's value of the inserted row (or True when no column
    is asked for), and None when a row was already there.
    """
    statement = _insert_statement(session.get_bind().dialect.name, table,
                                  tuple(conflict_columns), returning)
    inserted = write(session, statement, values).scalar_one_or_none()
    if returning is None:
        return True if inserted is not None else None
    return inserted


def write(session: Session, statement: Executable,
          parameters: dict[str, Any] | None = None) -> Result:
    """Execute a Core INSERT/UPDATE/DELETE and mark the session as changed, so the
    transaction manager commits it."""
    result = session.execute(statement, parameters)
    mark_changed(session)
    return result
