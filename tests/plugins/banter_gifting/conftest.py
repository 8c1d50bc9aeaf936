"""Gifting fixtures: the app with coins and gifting, a ledger to fund users, and a way to
build the app with a host's policy callables."""

from __future__ import annotations

import pytest
import webtest
from pyramid.config import Configurator

from banter_payments.ledger.services import LedgerService


@pytest.fixture
def settings(settings):
    settings["banter_payments.plugins"] = "banter_coins\nbanter_gifting"
    settings["gifting.policy"] = "allow_all"
    return settings


@pytest.fixture
def ledger(dbsession):
    return LedgerService(dbsession)


@pytest.fixture
def fund(ledger, dbsession):
    """``fund("alice", 500)``: grant coins and commit."""
    counter = iter(range(1, 1_000_000))

    def fund(user_id: str, coins: int) -> None:
        ledger.grant(user_id, {"coins": coins}, f"order:test-{next(counter)}", "Purchase")
        dbsession.commit()

    return fund


@pytest.fixture
def host_app(settings):
    """``host_app(lambda config: config.set_friendship_check(...), **settings)``: the app
    with a host's configuration applied after the core and its plugins."""

    def build(configure=None, **overrides) -> webtest.TestApp:
        with Configurator(settings={**settings, **overrides}) as config:
            config.include("banter_payments")
            if configure is not None:
                configure(config)
        app = config.make_wsgi_app()
        return webtest.TestApp(app, extra_environ={"HTTP_HOST": "localhost:80"})

    return build
