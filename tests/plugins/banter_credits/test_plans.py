"""The credit plans: the defaults, the directive, and the ini format."""

from __future__ import annotations

import pytest
from pyramid.config import Configurator
from pyramid.exceptions import ConfigurationConflictError, ConfigurationError

from banter_payments.catalog.registry import assets, catalog
from banter_payments.settings import parse_settings

EXPECTED = {
    # sku: (name, credits, price in paise, price per credit in paise, popular)
    "credits.basic": ("Basic", 100, 100000, 1000, False),
    "credits.standard": ("Standard", 500, 450000, 900, True),
    "credits.premium": ("Premium", 1000, 800000, 800, False),
    "credits.enterprise": ("Enterprise", 3000, 2000000, 667, False),
    "credits.ultimate": ("Ultimate", 5000, 3000000, 600, False),
}


def credits_config(**settings):
    config = Configurator(settings=parse_settings(settings, environ={}))
    config.include("banter_payments.settings")
    config.include("banter_payments.api")
    config.include("banter_payments.catalog")
    config.include("banter_credits")
    return config


def credits_catalog(**settings):
    config = credits_config(**settings)
    config.commit()
    return catalog(config.registry)


def test_the_five_default_plans():
    items = credits_catalog()
    assert set(items) == set(EXPECTED)
    for sku, (name, credits, price, per_credit, popular) in EXPECTED.items():
        item = items[sku].to_json()
        assert (item["kind"], item["name"], item["amount"], item["currency"]) == (
            "credits", name, price, "INR")
        assert item["grants"] == {"credits": credits}
        assert (item["credits"], item["pricePerCredit"], item["popular"]) == (
            credits, per_credit, popular)


def test_the_plugin_registers_the_credits_asset():
    config = credits_config()
    config.commit()
    assert assets(config.registry)["credits"].title == "Credits"


def test_operators_replace_the_plans_from_the_ini():
    items = credits_catalog(**{"banter_credits.plans": """
        starter | Starter Plan | 50 | 60000
        team    | Team Plan    | 2000 | 1500000 | popular
    """})
    assert set(items) == {"credits.starter", "credits.team"}
    team = items["credits.team"].to_json()
    assert (team["name"], team["grants"], team["amount"], team["popular"],
            team["pricePerCredit"]) == ("Team Plan", {"credits": 2000}, 1500000, True, 750)
    assert items["credits.starter"].to_json()["popular"] is False


def test_operators_extend_the_plans_from_the_ini():
    items = credits_catalog(**{"banter_credits.extra_plans": "mini | Mini | 10 | 15000"})
    assert len(items) == 6
    assert items["credits.mini"].to_json()["pricePerCredit"] == 1500


@pytest.mark.parametrize(("setting", "value", "message"), [
    ("banter_credits.plans", "basic | Basic | 100",
     "line 1: expected 'id | name | credits | price [| popular]'"),
    ("banter_credits.plans", "basic | Basic | 100 | 1000 | cheap",
     "line 1: unknown flag(s) cheap (known: popular)"),
    ("banter_credits.plans", "basic | Basic | 1.5 | 1000",
     "line 1, credits: must be a whole number; got '1.5'"),
    ("banter_credits.plans", "basic | Basic | 100 | ₹1000",
     "line 1, price: must be a whole number; got '₹1000'"),
    ("banter_credits.plans", "basic | Basic | 0 | 100000",
     "credit plan 'basic': credits must be at least 1, got 0"),
    ("banter_credits.plans", "basic | Basic | 10 | -5",
     "credit plan 'basic': price must be at least 1, got -5"),
    ("banter_credits.plans", "Basic! | Basic | 10 | 1000",
     "credit plan 'Basic!': id must be 1-50 lowercase letters"),
    ("banter_credits.plans", "basic |  | 10 | 1000",
     "credit plan 'basic': name must not be empty"),
    ("banter_credits.extra_plans", "x | X", "setting banter_credits.extra_plans: line 1"),
])
def test_bad_plans_stop_start_up_naming_the_problem(setting, value, message):
    with pytest.raises(ConfigurationError) as caught:
        credits_config(**{setting: value}).commit()
    assert str(caught.value).startswith(f"setting {setting}: ")
    assert message in str(caught.value)


@pytest.mark.parametrize(("arguments", "message"), [
    ({"credits": "250"}, "credits must be a whole number, got '250'"),
    ({"credits": 0}, "credits must be at least 1, got 0"),
    ({"price": 2000.0}, "price must be a whole number, got 2000.0"),
    ({"price": True}, "price must be a whole number, got True"),
    ({"popular": "no"}, "popular must be True or False, got 'no'"),
    ({"name": "  "}, "name must not be empty"),
    ({"id": ""}, "id must be 1-50 lowercase letters"),
    ({"currency": 356}, "currency must be a three-letter ISO 4217 code"),
])
def test_the_directive_refuses_bad_arguments_before_registering(arguments, message):
    config = credits_config(**{"banter_credits.plans": "a | A | 10 | 1000"})
    good = {"id": "campus", "name": "Campus", "credits": 250, "price": 200000}
    with pytest.raises(ConfigurationError) as caught:
        config.add_credit_plan(**{**good, **arguments})
    assert str(caught.value).startswith("credit plan ")
    assert message in str(caught.value)
    config.commit()
    assert set(catalog(config.registry)) == {"credits.a"}


def test_a_price_below_the_currency_minimum_is_refused():
    with pytest.raises(ConfigurationError, match="at least 100 INR"):
        credits_catalog(**{"banter_credits.plans": "cheap | Cheap | 1 | 99"})


def test_the_directive_adds_a_plan():
    config = credits_config()
    config.add_credit_plan("campus", "Campus", 250, 200000, popular=True)
    config.commit()
    item = catalog(config.registry)["credits.campus"].to_json()
    assert (item["credits"], item["amount"], item["pricePerCredit"]) == (250, 200000, 800)


def test_two_plans_with_one_id_conflict_at_start_up():
    config = Configurator(settings=parse_settings(
        {"banter_credits.plans": "a | A | 10 | 1000"}, environ={}))
    config.include("banter_payments.settings")
    config.include("banter_payments.api")
    config.include("banter_payments.catalog")
    config.include("banter_credits")
    config.include(lambda config: config.add_credit_plan("a", "Other A", 20, 2000))
    with pytest.raises(ConfigurationConflictError):
        config.commit()
