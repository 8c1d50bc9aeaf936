import pytest
from pyramid.config import Configurator
from pyramid.exceptions import ConfigurationConflictError, ConfigurationError

from banter_payments.catalog.registry import catalog
from banter_payments.settings import parse_settings


def configurator() -> Configurator:
    config = Configurator(settings=parse_settings({}, environ={}))
    config.include("banter_payments.api")
    config.include("banter_payments.catalog")
    return config


def test_an_item_registers_and_shows_its_display_fields():
    config = configurator()
    config.add_asset("gems")
    config.add_catalog_item("gems.small", kind="gems", name="Small gems", amount=1000,
                            grants={"gems": 10}, display={"sparkle": True})
    config.commit()
    item = catalog(config.registry)["gems.small"]
    assert item.currency == "INR"
    assert item.to_json() == {
        "sku": "gems.small", "kind": "gems", "name": "Small gems", "description": "",
        "amount": 1000, "currency": "INR", "grants": {"gems": 10}, "entitlements": [],
        "sparkle": True,
    }


def test_the_same_sku_twice_is_a_start_up_conflict():
    config = configurator()
    config.add_asset("gems")
    config.add_catalog_item("gems.small", kind="gems", name="A", amount=1000,
                            grants={"gems": 10})
    config.add_catalog_item("gems.small", kind="gems", name="B", amount=2000,
                            grants={"gems": 20})
    with pytest.raises(ConfigurationConflictError):
        config.commit()


def test_the_same_asset_twice_is_a_start_up_conflict():
    config = configurator()
    config.add_asset("gems")
    config.add_asset("gems")
    with pytest.raises(ConfigurationConflictError):
        config.commit()


def test_an_item_granting_an_unknown_asset_stops_start_up():
    config = configurator()
    config.add_catalog_item("gems.small", kind="gems", name="A", amount=1000,
                            grants={"gems": 10})
    with pytest.raises(ConfigurationError, match="grants unknown asset 'gems'"):
        config.commit()


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"amount": 10.5}, "amount must be a whole number, got 10.5"),
        ({"amount": "1000"}, "amount must be a whole number, got '1000'"),
        ({"amount": 99}, "amount must be at least 100 INR minor units, got 99"),
        ({"grants": {"gems": 0}}, "grants ['gems'] must be at least 1, got 0"),
        ({"grants": {"gems": 1.5}}, "grants ['gems'] must be a whole number, got 1.5"),
        ({"grants": {"Gems": 1}}, "grants ['Gems'] must be a lowercase identifier"),
        ({"grants": [("gems", 1)]}, "grants must be a mapping"),
        ({"grants": {}}, "grants nothing"),
        ({"name": ""}, "name must not be empty"),
        ({"kind": None}, "kind must be a string, got None"),
        ({"currency": "rupee"}, "currency must be a three-letter ISO 4217 code"),
        ({"entitlements": "premium"}, "entitlements must be a list or tuple"),
        ({"display": {1: "x"}}, "display [1] must be a string"),
        ({"description": None}, "description must be a string"),
    ],
)
def test_bad_items_are_refused_with_a_clear_message(kwargs, message):
    config = configurator()
    config.add_asset("gems")
    arguments = {"kind": "gems", "name": "A", "amount": 1000, "grants": {"gems": 1},
                 **kwargs}
    with pytest.raises(ConfigurationError) as caught:
        config.add_catalog_item("gems.bad", **arguments)
    assert str(caught.value).startswith("catalog item 'gems.bad'")
    assert message in str(caught.value)
    config.commit()
    assert catalog(config.registry) == {}


@pytest.mark.parametrize("sku", ["", "gems small", "x" * 101, None])
def test_a_sku_is_1_to_100_characters_without_spaces(sku):
    config = configurator()
    config.add_asset("gems")
    with pytest.raises(ConfigurationError, match="sku must be 1-100 characters, no spaces"):
        config.add_catalog_item(sku, kind="gems", name="A", amount=1000, grants={"gems": 1})


def test_asset_names_are_lowercase_identifiers():
    config = configurator()
    with pytest.raises(ConfigurationError, match="asset 'Gold Coins': name must be a "
                                                 "lowercase identifier"):
        config.add_asset("Gold Coins")
    with pytest.raises(ConfigurationError, match="at most 32 characters"):
        config.add_asset("g" * 33)
    with pytest.raises(ConfigurationError, match="asset 'gems': title must be a string"):
        config.add_asset("gems", title=7)
