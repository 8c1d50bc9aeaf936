"""The migrations are the schema: they must build exactly what the models describe."""

from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext

from banter_payments.models import load_all_models


def test_models_and_migrations_agree(engine):
    metadata = load_all_models()
    with engine.connect() as conn:
        context = MigrationContext.configure(conn, opts={"compare_type": True})
        differences = compare_metadata(context, metadata)
    assert differences == []


def test_every_table_has_a_primary_key():
    for table in load_all_models().sorted_tables:
        assert table.primary_key.columns, table.name


def test_the_migrated_database_is_stamped_at_head(engine):
    """The version row is committed with the schema (on MariaDB, where DDL commits by
    itself, a transaction left open before the migrations would lose it)."""
    from alembic.config import Config
    from alembic.script import ScriptDirectory

    from tests.common.databases import ROOT

    config = Config()
    config.set_main_option("script_location", str(ROOT / "migrations"))
    with engine.connect() as conn:
        current = MigrationContext.configure(conn).get_current_heads()
    assert set(current) == set(ScriptDirectory.from_config(config).get_heads())
