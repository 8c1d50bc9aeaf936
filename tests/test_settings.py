import pytest
from pyramid.exceptions import ConfigurationError

from banter_payments.settings import (
    DEVELOPMENT_JWT_SECRET,
    SANDBOX_KEY_ID,
    SANDBOX_WEBHOOK_SECRET,
    parse_settings,
)

PRODUCTION = {
    "banter_payments.environment": "production",
    "razorpay.mode": "live",
    "sqlalchemy.url": "postgresql+psycopg://app@db/payments",
    "razorpay.key_id": "rzp_live_abc",
    "razorpay.key_secret": "a-real-secret-from-the-dashboard",
    "razorpay.webhook_secrets": "a-real-webhook-secret",
    "jwt.secret": "x" * 40,
}


def test_defaults_give_a_working_sandbox():
    settings = parse_settings({}, environ={})
    assert settings["razorpay.mode"] == "sandbox"
    assert settings["razorpay.key_id"] == SANDBOX_KEY_ID
    assert settings["razorpay.webhook_secrets"] == [SANDBOX_WEBHOOK_SECRET]
    assert settings["jwt.secret"] == DEVELOPMENT_JWT_SECRET
    assert settings["retry.attempts"] == 3
    assert settings["razorpay.timeout"] == 10.0
    assert settings["tm.manager_hook"] == "pyramid_tm.explicit_manager"


def test_values_are_parsed_to_their_types():
    settings = parse_settings({
        "banter_payments.plugins": "banter_coins\nbanter_credits",
        "razorpay.timeout": "2.5",
        "sandbox.webhook_duplicates": "3",
        "sandbox.webhook_shuffle": "true",
        "razorpay.webhook_secrets": "one, two",
    }, environ={})
    assert settings["banter_payments.plugins"] == ["banter_coins", "banter_credits"]
    assert settings["razorpay.timeout"] == 2.5
    assert settings["sandbox.webhook_duplicates"] == 3
    assert settings["sandbox.webhook_shuffle"] is True
    assert settings["razorpay.webhook_secrets"] == ["one", "two"]


def test_environment_overrides_the_ini():
    settings = parse_settings(
        {"sqlalchemy.url": "sqlite:///ini.sqlite"},
        environ={"DATABASE_URL": "postgresql+psycopg://env/db", "JWT_SECRET": "e" * 32},
    )
    assert settings["sqlalchemy.url"] == "postgresql+psycopg://env/db"
    assert settings["jwt.secret"] == "e" * 32


def test_a_production_configuration_starts():
    settings = parse_settings(PRODUCTION, environ={})
    assert settings["razorpay.mode"] == "live"


@pytest.mark.parametrize(
    ("change", "message"),
    [
        ({"razorpay.mode": "sandbox"}, "razorpay.mode = sandbox is not allowed"),
        ({"jwt.secret": DEVELOPMENT_JWT_SECRET}, "setting jwt.secret holds a development"),
        ({"razorpay.webhook_secrets": SANDBOX_WEBHOOK_SECRET},
         "setting razorpay.webhook_secrets holds a development"),
        ({"sqlalchemy.url": "sqlite:///prod.sqlite"}, "sqlalchemy.url points at SQLite"),
        ({"jwt.secret": "short"}, "jwt.secret must be at least 32"),
        ({"razorpay.key_secret": ""}, "setting razorpay.key_secret is required"),
        ({"razorpay.timeout": "soon"}, "setting razorpay.timeout"),
        ({"razorpay.capture": "sometimes"}, "setting razorpay.capture: must be one of"),
    ],
)
def test_unsafe_or_missing_production_settings_stop_start_up(change, message):
    with pytest.raises(ConfigurationError, match=message):
        parse_settings({**PRODUCTION, **change}, environ={})


def test_test_mode_needs_real_credentials():
    with pytest.raises(ConfigurationError, match="razorpay.key_id is required"):
        parse_settings({"razorpay.mode": "test", "jwt.secret": "j" * 32}, environ={})


def test_a_choice_is_matched_without_case_and_kept_as_spelled():
    # jwt.algorithm's choices are upper case: "HS384" in an ini was refused as "hs384".
    assert parse_settings({"jwt.algorithm": "HS384"}, environ={})["jwt.algorithm"] == "HS384"
    assert parse_settings({"jwt.algorithm": "hs512"}, environ={})["jwt.algorithm"] == "HS512"
    assert parse_settings({"razorpay.capture": "Manual"}, environ={})["razorpay.capture"] \
        == "manual"


def test_parsing_parsed_settings_changes_nothing():
    """Including ``banter_payments.settings`` on a registry whose settings are already
    typed (a host app that parsed them itself) must give the same values."""
    once = parse_settings({"banter_payments.plugins": "a b", "razorpay.timeout": "2"},
                          environ={})
    assert parse_settings(once, environ={}) == once


def test_a_misspelt_boolean_is_refused_not_taken_for_false():
    with pytest.raises(ConfigurationError,
                       match="setting sandbox.worker: must be true or false; got 'ture'"):
        parse_settings({"sandbox.worker": "ture"}, environ={})
