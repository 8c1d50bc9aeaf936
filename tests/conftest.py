"""Fixtures shared by the whole suite (documented in ``tests/common/__init__.py``).

The suite runs once per database: SQLite by default (a fresh file per run), PostgreSQL
with ``--database-url postgresql+psycopg://...`` or ``$TEST_DATABASE_URL`` (MariaDB with
``mysql+pymysql://...``), on a database the run creates for itself and drops after
(``tests.common.databases``). Either way the
schema is built by running the Alembic migrations, never ``create_all``. Tests commit for
real (the sandbox, webhook deliveries and concurrency tests need real transactions), and
the tables a test wrote to are emptied after it.

Customize the app for one module by overriding ``settings``::

    @pytest.fixture
    def settings(settings):
        settings["razorpay.capture"] = "manual"
        return settings
"""

from __future__ import annotations

import os

import pytest
import sqlalchemy as sa
import webtest

from tests.common import payment_kit
from tests.common.databases import (
    TableCleaner,
    alembic_upgrade,
    create_database,
    drop_database,
    is_mysql,
    unique_database_name,
)
from tests.common.servers import Servers


def pytest_addoption(parser):
    parser.addoption(
        "--database-url",
        default=os.environ.get("TEST_DATABASE_URL"),
        help="run on this PostgreSQL or MariaDB server (postgresql+psycopg://... or "
             "mysql+pymysql://...): the run creates its own database there (named "
             "after this URL's database, plus a unique suffix) and drops it at the end; "
             "default: a fresh SQLite file",
    )
    parser.addoption(
        "--fresh-apps", action="store_true",
        help="build a new app for every test instead of reusing one per distinct settings",
    )


def pytest_collection_modifyitems(config, items):
    url = config.getoption("--database-url") or ""
    if url.startswith("postgresql") or is_mysql(url):
        return
    skip = pytest.mark.skip(reason="needs a database server (pass --database-url)")
    for item in items:
        # ``postgresql`` is the marker's older name: it runs on MariaDB too.
        if "server_database" in item.keywords or "postgresql" in item.keywords:
            item.add_marker(skip)


def pytest_report_header(config):
    url = config.getoption("--database-url")
    return f"database: {f'a new database on {url}' if url else 'SQLite (temporary file)'}"


@pytest.fixture(scope="session")
def database_url(request, tmp_path_factory):
    """The URL of this run's (this worker's) own database, migrated to head."""
    admin_url = request.config.getoption("--database-url")
    if not admin_url:
        url = f"sqlite:///{tmp_path_factory.mktemp('db') / 'banter.sqlite'}"
        alembic_upgrade(url)
        yield url
        return
    workerinput = getattr(request.config, "workerinput", {})
    name = unique_database_name(sa.engine.make_url(admin_url).database,
                                workerinput.get("testrunuid"), workerinput.get("workerid"))
    url = create_database(admin_url, name)
    try:
        alembic_upgrade(url)
        yield url
    finally:
        from banter_payments.sandbox.worker import stop_workers
        from banter_payments.worker.runner import stop_in_process

        # Their connections would otherwise outlive the database, and their next pass
        # would log that it is gone.
        stop_workers()
        stop_in_process()
        drop_database(admin_url, name)


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


@pytest.fixture(scope="session")
def _table_cleaners():
    """One ``TableCleaner`` per database URL, built on first use."""
    from banter_payments.db import make_engine
    from banter_payments.models import load_all_models

    cleaners: dict[str, TableCleaner] = {}

    def get(url: str) -> TableCleaner:
        if url not in cleaners:
            cleaners[url] = TableCleaner(make_engine(url), load_all_models().sorted_tables)
        return cleaners[url]

    yield get
    for cleaner in cleaners.values():
        cleaner.engine.dispose()


@pytest.fixture(autouse=True)
def _clean_database(request, _table_cleaners):
    yield
    if "database_url" in request.fixturenames:
        url = request.getfixturevalue("database_url")
        _table_cleaners(url).clean()
        if "sandbox_url" in request.fixturenames:
            sandbox = request.getfixturevalue("sandbox_url")
            if sandbox != url:
                _table_cleaners(sandbox).clean()


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
def app(settings, _apps):
    return _apps(settings)


@pytest.fixture(scope="session")
def _apps(pytestconfig):
    """Apps built once per distinct settings and reused (building one costs ~0.3 s)."""
    from tests.common.apps import AppCache

    cache = AppCache(reuse=not pytestconfig.getoption("--fresh-apps"))
    yield cache
    cache.close()


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
    """Deliver every webhook the sandbox has queued, now, through the app in-process,
    and process them from the app's inbox (``drain_inbox``)."""
    from banter_payments.sandbox.worker import flush_webhooks as flush
    from tests.common.inbox import drain

    def flush_and_drain():
        delivered = flush(app, app=app)
        drain(app)
        return delivered

    return flush_and_drain


@pytest.fixture(autouse=True)
def _not_a_worker_process():
    """``banter-worker``'s main, run in-process by a test, marks the process as a worker
    process (whose apps start no worker thread); the next test starts without the mark."""
    yield
    from banter_payments.worker import runner

    runner.IN_WORKER_PROCESS = False


@pytest.fixture
def drain_inbox(app):
    """``drain_inbox()``: process every webhook event the app has queued, now."""
    from tests.common.inbox import drain

    return lambda: drain(app)


@pytest.fixture(autouse=True, scope="session")
def _stop_sandbox_workers():
    yield
    from banter_payments.sandbox.worker import stop_workers

    stop_workers()


@pytest.fixture
def kit():
    """``tests.common.payment_kit``: a fake gateway and builders."""
    return payment_kit


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
            elif engine.dialect.name == "mysql":
                conn.exec_driver_sql("SET SESSION innodb_lock_wait_timeout = 1")
            else:
                conn.exec_driver_sql("PRAGMA busy_timeout = 500")
            conn.execute(sa.text("UPDATE orders SET title = 'touched' WHERE id = :id"),
                         {"id": order_id})
            conn.commit()

    return touch


@pytest.fixture
def _servers():
    servers = Servers()
    yield servers
    servers.close()


@pytest.fixture
def serve(_servers):
    """``serve(app, threads=8)`` → ``http://127.0.0.1:<port>``: the WSGI app (or a
    waitress server already created) served in a thread; stopped after the test."""
    return _servers.serve


@pytest.fixture
def serve_process(_servers):
    """``serve_process(settings, threads=16, slow_create_order=0)`` → (process, base URL):
    the app in a Python process of its own; terminated after the test."""
    return _servers.serve_process
