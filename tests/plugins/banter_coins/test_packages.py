import re

import pytest
from pyramid.config import Configurator
from pyramid.exceptions import ConfigurationConflictError, ConfigurationError

from banter_payments.catalog.registry import catalog
from banter_payments.settings import parse_settings

EXPECTED = {
    # sku: (coins, price in paise, bonus, bonusPercent)
    "coins.starter": (100, 9900, 0, 0),
    "coins.basic": (250, 22900, 40, 16),
    "coins.popular": (500, 44900, 100, 20),
    "coins.premium": (1000, 84900, 250, 25),
    "coins.mega": (2500, 199900, 750, 30),
    "coins.ultra": (5000, 349900, 2000, 40),
    "coins.supreme": (10000, 599900, 5000, 50),
    "coins.ultimate": (25000, 1299900, 15000, 60),
}


def coins_config(**settings) -> Configurator:
    config = Configurator(settings=parse_settings(settings, environ={}))
    config.include("banter_payments.settings")
    config.include("banter_payments.api")
    config.include("banter_payments.catalog")
    config.include("banter_coins")
    return config


def coins_catalog(**settings):
    config = Configurator(settings=parse_settings(settings, environ={}))
    config.include("banter_payments.settings")
    config.include("banter_payments.api")
    config.include("banter_payments.catalog")
    config.include("banter_coins")
    config.commit()
    return config, catalog(config.registry)


def test_the_eight_default_packs():
    _, items = coins_catalog()
    assert set(items) == set(EXPECTED)
    for sku, (coins, price, bonus, percent) in EXPECTED.items():
        item = items[sku].to_json()
        assert item["kind"] == "coins"
        assert item["amount"] == price
        assert item["currency"] == "INR"
        assert item["grants"] == {"coins": coins + bonus}
        assert (item["coins"], item["bonus"], item["bonusPercent"]) == (coins, bonus, percent)
    assert items["coins.popular"].to_json()["popular"] is True
    assert items["coins.popular"].name == "Popular Pack"
    assert items["coins.ultimate"].to_json()["bestValue"] is True
    assert sum(item.to_json()["popular"] for item in items.values()) == 1


def test_operators_replace_the_packs_from_the_ini():
    _, items = coins_catalog(**{"banter_coins.packages": """
        tiny | Tiny Pack | 10 | 1000 | 0
        big  | Big Pack  | 900 | 50000 | 100 | popular | best_value
    """})
    assert set(items) == {"coins.tiny", "coins.big"}
    big = items["coins.big"].to_json()
    assert big["grants"] == {"coins": 1000}
    assert big["bonusPercent"] == 11
    assert big["popular"] is True and big["bestValue"] is True


def test_operators_extend_the_defaults_from_the_ini():
    extra = "festival | Festival | 700 | 49900 | 300"
    _, items = coins_catalog(**{"banter_coins.extra_packages": extra})
    assert len(items) == 9
    assert items["coins.festival"].grants == {"coins": 1000}


@pytest.mark.parametrize(
    ("line", "message"),
    [
        ("tiny | Tiny | 10 | 1000",
         "line 1: expected 'id | name | coins | price | bonus [| popular] [| best_value]'"),
        ("tiny | Tiny | ten | 1000 | 0", "line 1, coins: must be a whole number; got 'ten'"),
        ("tiny | Tiny | 10 | 10.5 | 0", "line 1, price: must be a whole number; got '10.5'"),
        ("tiny | Tiny | 10 | 1000 | 0 | shiny", "line 1: unknown flag(s) shiny"),
        ("tiny | Tiny | 0 | 1000 | 0", "coin package 'tiny': coins must be at least 1"),
        ("Tiny! | Tiny | 10 | 1000 | 0", "coin package 'Tiny!': id must be 1-50 lowercase"),
        ("tiny | | 10 | 1000 | 0", "coin package 'tiny': name must not be empty"),
        ("tiny | Tiny | 10 | 99 | 0", "catalog item 'coins.tiny': amount must be at least "
                                      "100 INR minor units"),
    ],
)
def test_a_bad_ini_line_stops_start_up_naming_the_setting(line, message):
    with pytest.raises(ConfigurationError) as info:
        coins_catalog(**{"banter_coins.packages": line})
    assert str(info.value).startswith("setting banter_coins.packages: ")
    assert message in str(info.value)


@pytest.mark.parametrize(
    ("arguments", "message"),
    [
        ({"coins": "500"}, "coins must be a whole number, got '500'"),
        ({"coins": True}, "coins must be a whole number, got True"),
        ({"coins": 0}, "coins must be at least 1, got 0"),
        ({"price": 449.0}, "price must be a whole number, got 449.0"),
        ({"price": 0}, "price must be at least 1, got 0"),
        ({"bonus": -1}, "bonus must be at least 0, got -1"),
        ({"popular": "yes"}, "popular must be True or False, got 'yes'"),
        ({"best_value": 1}, "best_value must be True or False, got 1"),
        ({"name": ""}, "name must not be empty"),
        ({"currency": "rupees"}, "currency must be a three-letter ISO 4217 code"),
        ({"id": "Diwali Pack"}, "id must be 1-50 lowercase letters, digits"),
    ],
)
def test_the_directive_refuses_bad_arguments_before_registering(arguments, message):
    config = coins_config(**{"banter_coins.packages": "one | One | 1 | 1000 | 0"})
    good = {"id": "diwali", "name": "Diwali Pack", "coins": 1000, "price": 59900}
    with pytest.raises(ConfigurationError, match=re.escape(message)) as info:
        config.add_coin_package(**{**good, **arguments})
    assert str(info.value).startswith("coin package ")
    config.commit()
    assert set(catalog(config.registry)) == {"coins.one"}


def test_the_settings_are_typed():
    config = coins_config(**{"banter_coins.extra_packages": "a | A | 1 | 1000 | 0"})
    assert config.registry.settings["banter_coins.extra_packages"] == [
        {"id": "a", "name": "A", "coins": 1, "price": 1000, "bonus": 0,
         "popular": False, "best_value": False}]


def test_a_duplicate_package_id_is_a_conflict():
    with pytest.raises(ConfigurationConflictError):
        coins_catalog(**{"banter_coins.extra_packages": "popular | Again | 1 | 1000 | 0"})


def test_a_host_app_adds_its_own_package_with_the_directive():
    config = coins_config()
    config.add_coin_package("diwali", "Diwali Pack", 1000, 59900, bonus=500)
    config.commit()
    item = catalog(config.registry)["coins.diwali"].to_json()
    assert item["grants"] == {"coins": 1500}
    assert item["bonusPercent"] == 50
