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
