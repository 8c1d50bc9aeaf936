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
        ({"amount": 10.5}, "amount must be an integer"),
        ({"amount": 99}, "at least 100 INR minor units"),
        ({"grants": {"gems": 0}}, "must be a positive integer"),
        ({"grants": {"gems": 1.5}}, "must be a positive integer"),
        ({"grants": {}}, "grants nothing"),
    ],
)
def test_bad_items_are_refused_with_a_clear_message(kwargs, message):
    config = configurator()
    config.add_asset("gems")
    arguments = {"kind": "gems", "name": "A", "amount": 1000, "grants": {"gems": 1},
                 **kwargs}
    with pytest.raises(ConfigurationError, match=message):
        config.add_catalog_item("gems.bad", **arguments)


def test_asset_names_are_lowercase_identifiers():
    config = configurator()
    with pytest.raises(ConfigurationError, match="lowercase identifier"):
        config.add_asset("Gold Coins")
