"""``banter-sandbox``: its options, its schema from Alembic, and serving the SDK over HTTP."""

from __future__ import annotations

from pathlib import Path

import pytest
import razorpay
import requests
import sqlalchemy as sa

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
    monkeypatch.setattr(serve, "migrations_dir", lambda: tmp_path)
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


MIGRATIONS = Path(serve.__file__).resolve().parents[2] / "migrations"


@pytest.mark.skipif(
    not any((MIGRATIONS / "versions").glob("*.py")), reason="no Alembic revision exists yet"
)
def test_the_projects_migrations_create_the_sandbox_tables(tmp_path):
    url = f"sqlite:///{tmp_path / 'migrated.sqlite'}"
    serve.migrate(url)
    names = set(sa.inspect(sa.create_engine(url)).get_table_names())
    assert {t.name for t in SANDBOX_TABLES} <= names
