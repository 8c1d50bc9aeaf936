"""``config.declare_settings``: a plugin's settings follow the core's rules."""

from __future__ import annotations

import re

import pytest
from pyramid.config import Configurator
from pyramid.exceptions import ConfigurationError

from banter_payments.settings import (
    DECLARED_KEY,
    SANDBOX_WEBHOOK_SECRET,
    Setting,
    boolean,
    integer,
    parse_settings,
    records,
    text,
    text_list,
)

TABLE = {
    "demo.limit": Setting(10, integer(1, 100), doc="how many"),
    "demo.enabled": Setting(False, boolean),
    "demo.names": Setting([], text_list),
    "demo.url": Setting("http://localhost", text, env="DEMO_URL"),
    "demo.token": Setting(None, text, env="DEMO_TOKEN", secret=True),
}

PRODUCTION = {
    "banter_payments.environment": "production",
    "razorpay.mode": "live",
    "sqlalchemy.url": "postgresql+psycopg://app@db/payments",
    "razorpay.key_id": "rzp_live_abc",
    "razorpay.key_secret": "a-real-secret-from-the-dashboard",
    "razorpay.webhook_secrets": "a-real-webhook-secret",
    "jwt.secret": "x" * 40,
}


def configurator(**raw) -> Configurator:
    config = Configurator(settings=parse_settings(raw, environ={}))
    config.include("banter_payments.settings")
    return config


def test_defaults_fill_what_the_ini_leaves_out(monkeypatch):
    monkeypatch.delenv("DEMO_URL", raising=False)
    monkeypatch.delenv("DEMO_TOKEN", raising=False)
    config = configurator()
    config.declare_settings(TABLE)
    settings = config.registry.settings
    assert (settings["demo.limit"], settings["demo.enabled"], settings["demo.names"],
            settings["demo.url"], settings["demo.token"]) == (
        10, False, [], "http://localhost", None)


def test_ini_values_are_parsed_to_their_types(monkeypatch):
    monkeypatch.delenv("DEMO_URL", raising=False)
    config = configurator(**{"demo.limit": " 42 ", "demo.enabled": "true",
                             "demo.names": "a, b\nc", "demo.url": "  "})
    config.declare_settings(TABLE)
    settings = config.registry.settings
    assert settings["demo.limit"] == 42
    assert settings["demo.enabled"] is True
    assert settings["demo.names"] == ["a", "b", "c"]
    assert settings["demo.url"] == "http://localhost"  # blank is the default


def test_the_environment_wins_over_the_ini(monkeypatch):
    monkeypatch.setenv("DEMO_URL", "https://env.example")
    monkeypatch.setenv("DEMO_TOKEN", "")  # empty: not set
    config = configurator(**{"demo.url": "https://ini.example", "demo.token": "ini-token"})
    config.declare_settings(TABLE)
    assert config.registry.settings["demo.url"] == "https://env.example"
    assert config.registry.settings["demo.token"] == "ini-token"


@pytest.mark.parametrize(("name", "value", "message"), [
    ("demo.limit", "many", "setting demo.limit: must be a whole number; got 'many'"),
    ("demo.limit", "0", "setting demo.limit: must be at least 1; got '0'"),
    ("demo.limit", "101", "setting demo.limit: must be at most 100; got '101'"),
    ("demo.enabled", "perhaps", "setting demo.enabled: must be true or false; got 'perhaps'"),
])
def test_a_bad_value_stops_start_up_naming_the_setting(name, value, message):
    config = configurator(**{name: value})
    with pytest.raises(ConfigurationError) as caught:
        config.declare_settings(TABLE)
    assert str(caught.value).startswith(message)


def test_a_core_setting_cannot_be_declared_again():
    config = configurator()
    with pytest.raises(ConfigurationError, match="setting razorpay.timeout is declared twice"):
        config.declare_settings({"razorpay.timeout": Setting(5, integer(1))})


def test_two_plugins_cannot_declare_one_setting():
    config = configurator()
    config.declare_settings({"demo.limit": Setting(10, integer(1))})
    with pytest.raises(ConfigurationError, match="setting demo.limit is declared twice"):
        config.declare_settings({"demo.limit": Setting(20, integer(1))})
    assert config.registry.settings["demo.limit"] == 10


def test_a_refused_declaration_changes_nothing():
    config = configurator(**{"demo.limit": "5", "other.flag": "yes"})
    with pytest.raises(ConfigurationError):
        config.declare_settings({"other.flag": Setting(False, boolean),
                                 "demo.limit": Setting(1, integer(10))})
    assert config.registry.settings["other.flag"] == "yes"
    assert "other.flag" not in config.registry[DECLARED_KEY]
    config.declare_settings({"other.flag": Setting(False, boolean)})
    assert config.registry.settings["other.flag"] is True


@pytest.mark.parametrize(("table", "message"), [
    ({"demo.limit": 10}, "setting demo.limit must be declared with a "
                         "banter_payments.settings.Setting"),
    ({"demo limit": Setting(1)}, "setting name 'demo limit' must be"),
    ({"": Setting(1)}, "setting name '' must be"),
])
def test_declarations_are_checked(table, message):
    with pytest.raises(ConfigurationError, match=message):
        configurator().declare_settings(table)


def test_production_refuses_a_development_secret_in_a_plugin_setting(monkeypatch):
    monkeypatch.delenv("DEMO_TOKEN", raising=False)
    config = configurator(**PRODUCTION, **{"demo.token": SANDBOX_WEBHOOK_SECRET})
    with pytest.raises(ConfigurationError,
                       match=r"setting demo.token holds a development secret.*\$DEMO_TOKEN"):
        config.declare_settings(TABLE)


def test_records_parse_one_line_each_with_flags():
    parse = records(("id", text), ("count", integer(0)), flags=("shiny",))
    assert parse("a | 1\n\n  b | 2 | shiny  ") == [
        {"id": "a", "count": 1, "shiny": False}, {"id": "b", "count": 2, "shiny": True}]
    with pytest.raises(ValueError, match=r"line 2: expected 'id \| count \[\| shiny\]'"):
        parse("a | 1\nb")
    with pytest.raises(ValueError, match="line 1, count: must be at least 0; got '-1'"):
        parse("a | -1")
    assert parse("a | 1 | ") == [{"id": "a", "count": 1, "shiny": False}]


def test_records_a_host_app_passed_as_python_values_are_kept():
    parse = records(("id", text), ("count", integer(0)))
    assert parse([{"id": "a", "count": 1}]) == [{"id": "a", "count": 1}]
    assert parse(parse("a | 1")) == [{"id": "a", "count": 1}]
    with pytest.raises(ValueError,
                       match=re.escape("must be lines of 'id | count' or a list of mappings")):
        parse(["a | 1"])
