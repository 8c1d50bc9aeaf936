"""Fixtures for the wallet: a ledger on the root conftest's ``dbsession``, and the app
with credits."""

from __future__ import annotations

import pytest

from banter_payments.ledger.services import LedgerService


@pytest.fixture
def settings(settings):
    settings["banter_payments.plugins"] = "banter_coins\nbanter_credits"
    return settings


@pytest.fixture
def ledger(dbsession):
    return LedgerService(dbsession)
