"""The ini files operators start from: they load, migrate and refuse what is unsafe."""

from pathlib import Path

import pytest
import sqlalchemy as sa
import webtest
from alembic import command
from alembic.config import Config
from pyramid.exceptions import ConfigurationError
from pyramid.paster import get_app, get_appsettings

from banter_payments import main
from banter_payments.settings import SANDBOX_KEY_SECRET, parse_settings

ROOT = Path(__file__).resolve().parent.parent
PRODUCTION_ENV = {
    "DATABASE_URL": "postgresql+psycopg://app@db.internal/payments",
    "RAZORPAY_KEY_ID": "rzp_live_abc",
    "RAZORPAY_KEY_SECRET": "a-real-key-secret-from-the-dashboard",
    "RAZORPAY_WEBHOOK_SECRET": "new-webhook-secret, old-webhook-secret",
    "JWT_SECRET": "j" * 40,
}


def tables(url: str) -> set[str]:
    engine = sa.create_engine(url)
    try:
        return set(sa.inspect(engine).get_table_names())
    finally:
        engine.dispose()


def test_development_ini_migrates_both_databases_and_serves(tmp_path, monkeypatch):
    """What ``make run`` does: ``alembic -c development.ini upgrade head``, then the app."""
    url = f"sqlite:///{tmp_path / 'dev.sqlite'}"
    monkeypatch.setenv("DATABASE_URL", url)
    command.upgrade(Config(str(ROOT / "development.ini")), "head")
    assert {"orders", "ledger_entries", "webhook_deliveries"} <= tables(url)
    sandbox_url = f"sqlite:///{tmp_path / 'dev-sandbox.sqlite'}"
    assert {"sandbox_orders", "sandbox_webhooks"} <= tables(sandbox_url)

    app = webtest.TestApp(get_app(str(ROOT / "development.ini")))
    assert app.get("/api/payments/health").json == {"status": "ok", "database": "ok"}
    kinds = {item["kind"] for item in app.get("/api/payments/catalog").json["items"]}
    # development.ini enables the subscriptions plugin, for the demo's premium plans.
    assert kinds == {"coins", "credits", "subscription"}


def test_production_ini_starts_with_its_secrets_in_the_environment():
    raw = get_appsettings(str(ROOT / "production.ini"), name="main")
    settings = parse_settings(raw, environ=PRODUCTION_ENV)
    assert settings["razorpay.mode"] == "live"
    assert settings["razorpay.webhook_secrets"] == ["new-webhook-secret", "old-webhook-secret"]
    assert settings["banter_payments.https"] is True


def test_production_ini_takes_a_mariadb_url():
    from banter_payments.db import make_engine

    raw = get_appsettings(str(ROOT / "production.ini"), name="main")
    url = "mysql+pymysql://app:pw@db.internal:3306/payments"
    settings = parse_settings(raw, environ={**PRODUCTION_ENV, "DATABASE_URL": url})
    assert settings["sqlalchemy.url"] == url
    engine = make_engine(url)  # connects lazily: nothing is contacted here
    try:
        assert (engine.dialect.name, engine.dialect.driver) == ("mysql", "pymysql")
        assert engine.url.query["charset"] == "utf8mb4"
    finally:
        engine.dispose()


@pytest.mark.parametrize(
    ("missing_or_changed", "message"),
    [
        ({"JWT_SECRET": None}, "jwt.secret is required"),
        ({"RAZORPAY_KEY_SECRET": None}, "razorpay.key_secret is required"),
        ({"RAZORPAY_KEY_SECRET": SANDBOX_KEY_SECRET}, "razorpay.key_secret holds a development"),
        ({"DATABASE_URL": None}, "points at SQLite"),
    ],
)
def test_production_ini_refuses_to_start_without_real_secrets(missing_or_changed, message):
    raw = get_appsettings(str(ROOT / "production.ini"), name="main")
    environ = {k: v for k, v in {**PRODUCTION_ENV, **missing_or_changed}.items() if v}
    with pytest.raises(ConfigurationError, match=message):
        parse_settings(raw, environ=environ)


def test_health_is_503_when_the_database_is_unreachable(tmp_path):
    app = webtest.TestApp(main({}, **{
        "sqlalchemy.url": f"sqlite:///{tmp_path / 'missing' / 'nowhere.sqlite'}",
        "razorpay.mode": "test", "razorpay.key_id": "rzp_test_k",
        "razorpay.key_secret": "k" * 20, "razorpay.webhook_secrets": "w" * 20,
        "jwt.secret": "j" * 40,
    }))
    response = app.get("/api/payments/health", status=503)
    assert response.json == {"status": "degraded", "database": "unreachable"}
