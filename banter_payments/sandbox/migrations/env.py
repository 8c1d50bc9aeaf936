"""Alembic environment of the standalone sandbox's own database: the sandbox's tables and
nothing else.

``banter-sandbox`` keeps its state in a database of its own, which should not carry the
app's orders, ledger and webhook tables. The in-app sandbox's tables come from the
project's history (``migrations/``) like every other table; this history builds the same
tables alone, under its own version table, and a test keeps the two in agreement with
the models. Run with ``-x url=...``, as ``banter_payments.sandbox.serve.migrate`` does.
"""

from __future__ import annotations

from alembic import context

from banter_payments.db import make_engine, prepare_database
from banter_payments.models.meta import Base
from banter_payments.sandbox.models import SANDBOX_TABLES

VERSION_TABLE = "alembic_version_sandbox"
TABLES = frozenset(table.name for table in SANDBOX_TABLES)


def include_object(obj, name, type_, reflected, compare_to) -> bool:
    """Only the sandbox's tables (and their indexes and constraints) are this history's."""
    if type_ == "table":
        return name in TABLES
    table = getattr(obj, "table", None)
    return table is None or table.name in TABLES


def run() -> None:
    url = context.get_x_argument(as_dictionary=True)["url"]
    options = {"target_metadata": Base.metadata, "include_object": include_object,
               "version_table": VERSION_TABLE, "render_as_batch": url.startswith("sqlite")}
    if context.is_offline_mode():
        context.configure(url=url, literal_binds=True, **options)
        with context.begin_transaction():
            context.run_migrations()
        return
    engine = make_engine(url)
    try:
        with engine.connect() as connection:
            prepare_database(connection)
            context.configure(connection=connection, compare_type=True, **options)
            with context.begin_transaction():
                context.run_migrations()
    finally:
        engine.dispose()


run()
