"""Parsing ratelimit.rules."""

from __future__ import annotations

import pytest
from pyramid.exceptions import ConfigurationError

from banter_payments.ratelimit.rules import parse_rules
from banter_payments.settings import SETTINGS


def test_the_default_rules():
    rules = parse_rules(SETTINGS["ratelimit.rules"].default)
    assert {route: [str(item) for item in items] for route, items in rules.items()} == {
        "payments.orders.create": ["15 per 1 hour"],
        "payments.verify": ["10 per 15 minute"],
    }


def test_several_limits_per_route_and_rules_on_lines():
    rules = parse_rules("""
        payments.orders.create: 15/hour; 100 per day
        payments.gifts.create: 5/minute,
    """)
    assert [str(i) for i in rules["payments.orders.create"]] == ["15 per 1 hour", "100 per 1 day"]
    assert [str(i) for i in rules["payments.gifts.create"]] == ["5 per 1 minute"]


def test_empty_rules_limit_nothing():
    assert parse_rules("") == {}


@pytest.mark.parametrize("text,message", [
    ("payments.orders.create 15/hour", "is not 'route.name: limit'"),
    ("payments.orders.create:", "is not 'route.name: limit'"),
    ("payments.orders.create: lots", "is not a rate limit"),
    ("payments.verify: 1/hour, payments.verify: 2/hour", "listed twice"),
    ("payments.webhooks.razorpay: 100/minute", "never rate limited"),
])
def test_bad_rules_stop_start_up_naming_the_setting(text, message):
    with pytest.raises(ConfigurationError, match=message) as caught:
        parse_rules(text)
    assert "setting ratelimit.rules" in str(caught.value)


def test_a_webhook_rule_stops_the_app(settings):
    from banter_payments import main

    settings["ratelimit.rules"] = "payments.webhooks.razorpay: 100/minute"
    with pytest.raises(ConfigurationError, match="never rate limited"):
        main({}, **settings)


def test_an_unknown_storage_stops_the_app(settings):
    from banter_payments import main

    settings["ratelimit.storage_url"] = "nosuchstore://here"
    with pytest.raises(ConfigurationError, match="ratelimit.storage_url"):
        main({}, **settings)
