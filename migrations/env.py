"""Alembic environment: one history for the core, its sandbox and every plugin.

``alembic -c development.ini upgrade head`` migrates the app's database and, in sandbox
mode with a separate sandbox database (the SQLite default), that one too. The URL comes
from the ini's ``sqlalchemy.url`` unless ``$DATABASE_URL`` overrides it, the same rule the
app follows. ``-x url=...`` migrates one given database only (the tests use it).

The target metadata is every table of the core and of every installed plugin (each
declares its model modules as a ``banter_payments.models`` entry point), whichever
plugins the ini enables: the history is one, and a plugin switched off keeps its tables.
"""

from __future__ import annotations

from alembic import context
from pyramid.paster import get_appsettings, setup_logging

from banter_payments.db import make_engine, prepare_database
from banter_payments.models import load_all_models
from banter_payments.settings import parse_settings

config = context.config
target_metadata = load_all_models()


def database_urls() -> list[str]:
    explicit = context.get_x_argument(as_dictionary=True).get("url")
    if explicit:
        return [explicit]
    ini = config.config_file_name
    setup_logging(ini)
    settings = parse_settings(get_appsettings(ini, name="main"))
    urls = [settings["sqlalchemy.url"]]
    if settings["razorpay.mode"] == "sandbox":
        from banter_payments.sandbox import sandbox_database_url

        sandbox_url = sandbox_database_url(settings)
        if sandbox_url not in urls:
            urls.append(sandbox_url)
    return urls


def run_migrations_offline() -> None:
    for url in database_urls():
        context.configure(url=url, target_metadata=target_metadata, literal_binds=True,
                          render_as_batch=url.startswith("sqlite"))
        with context.begin_transaction():
            context.run_migrations()


def run_migrations_online() -> None:
    for url in database_urls():
        engine = make_engine(url)
        with engine.connect() as connection:
            prepare_database(connection)
            context.configure(connection=connection, target_metadata=target_metadata,
                              render_as_batch=url.startswith("sqlite"),
                              compare_type=True)
            with context.begin_transaction():
                context.run_migrations()
        engine.dispose()


if context.is_offline_mode():
    run_migrations_offline()
else:
    run_migrations_online()
