"""Fixtures shared by the whole suite.

The suite runs once per database: SQLite by default (a fresh file per run), PostgreSQL
with ``--database-url postgresql+psycopg://...`` or ``$TEST_DATABASE_URL``. Either way the
schema is built by running the Alembic migrations, never ``create_all``. Tests commit for
real (the sandbox, webhook deliveries and concurrency tests need real transactions), and
every table is emptied after each test.

Customize the app for one module by overriding ``settings``::

    @pytest.fixture
    def settings(settings):
        settings["razorpay.capture"] = "manual"
        return settings
"""

from __future__ import annotations

import os
from pathlib import Path

import pytest
import sqlalchemy as sa
import webtest
from alembic import command
from alembic.config import Config

ROOT = Path(__file__).resolve().parent.parent


def pytest_addoption(parser):
    parser.addoption(
        "--database-url",
        default=os.environ.get("TEST_DATABASE_URL"),
        help="run against this database (PostgreSQL); default: a fresh SQLite file",
    )


def pytest_collection_modifyitems(config, items):
    url = config.getoption("--database-url") or ""
    if url.startswith("postgresql"):
        return
    skip = pytest.mark.skip(reason="needs PostgreSQL (pass --database-url)")
    for item in items:
        if "postgresql" in item.keywords:
            item.add_marker(skip)


def pytest_report_header(config):
    url = config.getoption("--database-url")
    return f"database: {url or 'SQLite (temporary file)'}"


def alembic_upgrade(url: str) -> None:
    cfg = Config()
    cfg.set_main_option("script_location", str(ROOT / "migrations"))
    cfg.cmd_opts = type("Opts", (), {"x": [f"url={url}"]})()
    command.upgrade(cfg, "head")


def _reset_postgresql(url: str) -> None:
    engine = sa.create_engine(url)
    with engine.begin() as conn:
        conn.exec_driver_sql("DROP SCHEMA IF EXISTS public CASCADE")
        conn.exec_driver_sql("CREATE SCHEMA public")
    engine.dispose()


@pytest.fixture(scope="session")
def database_url(request, tmp_path_factory) -> str:
    url = request.config.getoption("--database-url")
    if url:
        _reset_postgresql(url)
    else:
        url = f"sqlite:///{tmp_path_factory.mktemp('db') / 'banter.sqlite'}"
    alembic_upgrade(url)
    return url


@pytest.fixture(scope="session")
def sandbox_url(database_url) -> str:
    """The sandbox's database, by the same rule the app uses (a sibling SQLite file)."""
    from banter_payments.sandbox import sandbox_database_url

    url = sandbox_database_url({"sqlalchemy.url": database_url, "sandbox.database_url": None})
    if url != database_url:
        alembic_upgrade(url)
    return url


@pytest.fixture(scope="session")
def engine(database_url):
    from banter_payments.db import make_engine

    engine = make_engine(database_url)
    yield engine
    engine.dispose()


def _empty_all_tables(url: str) -> None:
    from banter_payments.db import make_engine
    from banter_payments.models import load_all_models

    metadata = load_all_models()
    engine = make_engine(url)
    with engine.begin() as conn:
        names = [t.name for t in metadata.sorted_tables]
        if engine.dialect.name == "postgresql":
            conn.exec_driver_sql(
                "TRUNCATE " + ", ".join(f'"{n}"' for n in names) + " RESTART IDENTITY CASCADE"
            )
        else:
            for name in reversed(names):
                conn.exec_driver_sql(f'DELETE FROM "{name}"')
    engine.dispose()


@pytest.fixture(autouse=True)
def _clean_database(request):
    yield
    if "database_url" in request.fixturenames:
        url = request.getfixturevalue("database_url")
        _empty_all_tables(url)
        if "sandbox_url" in request.fixturenames:
            sandbox = request.getfixturevalue("sandbox_url")
            if sandbox != url:
                _empty_all_tables(sandbox)


@pytest.fixture
def settings(database_url, sandbox_url) -> dict:
    return {
        "sqlalchemy.url": database_url,
        "sandbox.database_url": sandbox_url,
        "banter_payments.environment": "development",
        "banter_payments.plugins": "banter_coins",
        "razorpay.mode": "sandbox",
        "sandbox.worker": "false",
        "sandbox.webhook_delay": "0",
    }


@pytest.fixture
def app(settings):
    from banter_payments import main

    return main({}, **settings)


@pytest.fixture
def testapp(app) -> webtest.TestApp:
    return webtest.TestApp(app, extra_environ={"HTTP_HOST": "localhost:80"})


@pytest.fixture
def registry(app):
    return app.registry


@pytest.fixture
def auth(registry):
    """``auth("alice", "admin")`` → headers carrying a valid token for alice."""
    from banter_payments.security import issue_token

    def make(sub: str, *roles: str, ttl_seconds: int = 3600) -> dict[str, str]:
        token = issue_token(registry.settings, sub, list(roles), ttl_seconds=ttl_seconds)
        return {"Authorization": f"Bearer {token}"}

    return make


@pytest.fixture
def session_factory(engine):
    """Sessions on the test database, outside any app (the app's writer kind)."""
    from banter_payments.db import session_factories

    writer, _reader = session_factories(engine)
    return writer


@pytest.fixture
def dbsession(session_factory):
    """A plain session for arranging and asserting; commit it yourself."""
    session = session_factory()
    yield session
    session.rollback()
    session.close()


@pytest.fixture
def flush_webhooks(app):
    """Deliver every webhook the sandbox has queued, now, through the app in-process."""
    from banter_payments.sandbox.worker import flush_webhooks as flush

    return lambda: flush(app, app=app)


@pytest.fixture(autouse=True, scope="session")
def _stop_sandbox_workers():
    yield
    from banter_payments.sandbox.worker import stop_workers

    stop_workers()


def load_payment_kit():
    """``tests/payments/payment_kit.py`` (a fake gateway and builders shared by the
    payments, webhooks and reconcile tests), loaded by path once: the suite runs with
    ``--import-mode=importlib``, so test directories are not packages."""
    import importlib.util
    import sys

    name = "banter_tests_payment_kit"
    if name not in sys.modules:
        path = Path(__file__).resolve().parent / "payments" / "payment_kit.py"
        spec = importlib.util.spec_from_file_location(name, path)
        module = importlib.util.module_from_spec(spec)
        sys.modules[name] = module
        spec.loader.exec_module(module)
    return sys.modules[name]


@pytest.fixture
def kit():
    return load_payment_kit()


@pytest.fixture
def gateway(kit):
    """An in-memory ``IPaymentGateway`` with exact, scriptable answers."""
    return kit.FakeGateway()


@pytest.fixture
def touch_order(engine):
    """``touch_order(order_id)``: write the order's row from another connection, giving up
    after half a second; raises if someone holds a lock on it (or SQLite's write lock)."""

    def touch(order_id: str) -> None:
        with engine.connect() as conn:
            if engine.dialect.name == "postgresql":
                conn.exec_driver_sql("SET lock_timeout = '500ms'")
            else:
                conn.exec_driver_sql("PRAGMA busy_timeout = 500")
            conn.execute(sa.text("UPDATE orders SET title = 'touched' WHERE id = :id"),
                         {"id": order_id})
            conn.commit()

    return touch
