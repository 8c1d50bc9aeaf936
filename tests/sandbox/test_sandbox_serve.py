"""``banter-sandbox``: its options, its schema from Alembic, and serving the SDK over HTTP."""

from __future__ import annotations

from pathlib import Path

import pytest
import razorpay
import requests
import sqlalchemy as sa
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext

from banter_payments.models import load_all_models
from banter_payments.sandbox import serve
from banter_payments.sandbox.emulator import emulator_service
from banter_payments.sandbox.models import SANDBOX_TABLES
from banter_payments.settings import SANDBOX_KEY_ID, SANDBOX_KEY_SECRET, SANDBOX_WEBHOOK_SECRET

# A stand-in Alembic environment that builds the sandbox tables at the -x url, to check
# what banter-sandbox hands to Alembic without depending on the project's history.
FAKE_ENV = """
from alembic import context

from banter_payments.db import make_engine
from banter_payments.models.meta import Base
from banter_payments.sandbox.models import SANDBOX_TABLES

url = context.get_x_argument(as_dictionary=True)["url"]
engine = make_engine(url)
Base.metadata.create_all(engine, tables=SANDBOX_TABLES)
engine.dispose()
"""


@pytest.fixture
def fake_migrations(tmp_path) -> Path:
    directory = tmp_path / "migrations"
    (directory / "versions").mkdir(parents=True)
    (directory / "env.py").write_text(FAKE_ENV)
    return directory


def test_defaults_are_the_sandbox_defaults():
    args = serve.build_parser().parse_args([])
    assert (args.host, args.port, args.database_url) == (
        "127.0.0.1",
        8765,
        "sqlite:///banter-sandbox.sqlite",
    )
    settings = serve.build_settings(args)
    assert settings == {
        "razorpay.mode": "sandbox",
        "razorpay.key_id": SANDBOX_KEY_ID,
        "razorpay.key_secret": SANDBOX_KEY_SECRET,
        "razorpay.webhook_secrets": [SANDBOX_WEBHOOK_SECRET],
        "sandbox.database_url": "sqlite:///banter-sandbox.sqlite",
        "sandbox.webhook_url": "http://127.0.0.1:6543/api/payments/webhooks/razorpay",
        "sandbox.worker": True,
    }


def test_options_and_extra_sandbox_settings():
    args = serve.build_parser().parse_args(
        [
            "--port", "9000", "--key-id", "rzp_test_mine", "--key-secret", "mine",
            "--webhook-secret", "hook", "--webhook-url", "http://app.test/hooks",
            "--set", "sandbox.webhook_duplicates=2", "--set", "sandbox.webhook_shuffle=true",
        ]
    )  # fmt: skip
    settings = serve.build_settings(args)
    assert args.port == 9000
    assert (
        settings["razorpay.key_id"],
        settings["razorpay.key_secret"],
        settings["razorpay.webhook_secrets"],
        settings["sandbox.webhook_url"],
        settings["sandbox.webhook_duplicates"],
        settings["sandbox.webhook_shuffle"],
    ) == ("rzp_test_mine", "mine", ["hook"], "http://app.test/hooks", "2", "true")


def test_set_only_takes_sandbox_settings():
    with pytest.raises(SystemExit):
        serve.build_parser().parse_args(["--set", "jwt.secret=x"])


def test_a_missing_alembic_environment_is_a_clear_error(tmp_path):
    with pytest.raises(serve.SandboxSetupError, match="no Alembic environment"):
        serve.migrate(f"sqlite:///{tmp_path / 's.sqlite'}", directory=tmp_path)


def test_main_exits_2_when_it_cannot_migrate(tmp_path, monkeypatch, capsys):
    monkeypatch.setattr(serve, "sandbox_migrations_dir", lambda: tmp_path)
    assert serve.main(["--database-url", f"sqlite:///{tmp_path / 's.sqlite'}"]) == 2
    assert "no Alembic environment" in capsys.readouterr().err


def test_the_server_migrates_then_serves_the_sdk_over_http(tmp_path, fake_migrations, serve):
    from banter_payments.sandbox.serve import build_server  # the fixture shadows the module

    url = f"sqlite:///{tmp_path / 'standalone.sqlite'}"
    standalone = build_server(
        ["--port", "0", "--database-url", url, "--set", "sandbox.worker=false"],
        migrations=fake_migrations,
    )
    try:
        base_url = serve(standalone.server)
        client = razorpay.Client(auth=(SANDBOX_KEY_ID, SANDBOX_KEY_SECRET), base_url=base_url)
        order = client.order.create({"amount": 1000, "currency": "INR"})
        checkout = requests.post(f"{base_url}/checkout/{order['id']}/pay", json={}, timeout=5)
        assert client.utility.verify_payment_signature(checkout.json()) is True
        assert client.order.fetch(order["id"])["status"] == "paid"
        assert standalone.settings["sandbox.worker"] == "false"
    finally:
        emulator_service(standalone.app).close()
    inspector = sa.inspect(sa.create_engine(url))
    assert {t.name for t in SANDBOX_TABLES} <= set(inspector.get_table_names())


def test_its_own_database_holds_only_its_own_tables(tmp_path):
    url = f"sqlite:///{tmp_path / 'alone.sqlite'}"
    serve.migrate(url)
    engine = sa.create_engine(url)
    try:
        names = set(sa.inspect(engine).get_table_names())
        assert names == {t.name for t in SANDBOX_TABLES} | {"alembic_version_sandbox"}
        with engine.connect() as conn:
            # The sandbox's history builds exactly what the sandbox's models describe.
            context = MigrationContext.configure(conn, opts={
                "compare_type": True, "include_object": sandbox_env_filter})
            assert compare_metadata(context, load_all_models()) == []
    finally:
        engine.dispose()
    serve.migrate(url)  # again: nothing to do


def test_a_database_the_projects_history_manages_keeps_that_history(tmp_path):
    url = f"sqlite:///{tmp_path / 'app.sqlite'}"
    serve.migrate(url, directory=serve.migrations_dir())
    serve.migrate(url)
    names = set(sa.inspect(sa.create_engine(url)).get_table_names())
    assert {t.name for t in SANDBOX_TABLES} | {"alembic_version", "orders"} <= names
    assert "alembic_version_sandbox" not in names


def sandbox_env_filter(obj, name, type_, reflected, compare_to) -> bool:
    tables = {t.name for t in SANDBOX_TABLES}
    if type_ == "table":
        return name in tables
    table = getattr(obj, "table", None)
    return table is None or table.name in tables


def test_help_shows_the_keys_and_the_checkout_route(capsys):
    with pytest.raises(SystemExit):
        serve.main(["--help"])
    text = capsys.readouterr().out
    for value in (SANDBOX_KEY_ID, SANDBOX_KEY_SECRET, SANDBOX_WEBHOOK_SECRET):
        assert value in text
    assert "POST http://127.0.0.1:8765/checkout/{order_id}/pay" in text
    assert "no /_sandbox/razorpay prefix" in text
    assert "/faults" in text


def test_the_root_page_describes_the_sandbox(emulator, serve):
    base_url = serve(emulator)
    page = requests.get(f"{base_url}/", timeout=10).json()
    assert (page["key_id"], page["key_secret"], page["webhook_secret"], page["base_url"]) == (
        SANDBOX_KEY_ID, SANDBOX_KEY_SECRET, SANDBOX_WEBHOOK_SECRET, base_url)
    assert page["routes"]["checkout"] == f"POST {base_url}/checkout/{{order_id}}/pay"
    assert f"GET {base_url}/v1/orders/{{id}}/payments" in page["api"]
    assert f"PUT {base_url}/v1/customers/{{id}}" in page["api"]


def test_every_api_call_and_every_delivery_attempt_is_logged(make_app, serve, caplog):
    import logging

    from tests.common.inbox import flush_webhooks

    app = make_app({"sandbox.webhook_url": "http://127.0.0.1:9/nowhere",
                    "sandbox.webhook_max_attempts": "2"})
    base_url = serve(app)
    client = razorpay.Client(auth=(SANDBOX_KEY_ID, SANDBOX_KEY_SECRET), base_url=base_url)
    caplog.set_level(logging.INFO, logger="banter_payments.sandbox")
    order = client.order.create({"amount": 1000, "currency": "INR"})
    requests.get(f"{base_url}/v1/orders/order_00000000000000", auth=("x", "y"), timeout=10)
    requests.post(f"{base_url}/checkout/{order['id']}/pay", json={}, timeout=10)
    api_lines = [r.getMessage() for r in caplog.records
                 if r.name == "banter_payments.sandbox.api"]
    assert any(line.startswith("POST /v1/orders 200 ") for line in api_lines)
    assert any(line.startswith("GET /v1/orders/order_00000000000000 401 ")
               for line in api_lines)
    flush_webhooks(app)
    attempts = [r for r in caplog.records if r.name == "banter_payments.sandbox.webhooks"]
    assert attempts and all(r.levelno == logging.WARNING for r in attempts)
    first = attempts[0].getMessage()
    assert first.startswith("webhook payment.authorized evt_")
    assert "attempt 1 -> no answer" in first and "retry in" in first
    flush_webhooks(app)
    assert "failed for good after 2 attempts" in caplog.records[-1].getMessage()
