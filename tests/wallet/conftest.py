"""Fixtures for the wallet: a plain session, a ledger on it, and the app with credits."""

from __future__ import annotations

import pytest

from banter_payments.ledger.services import LedgerService


@pytest.fixture
def settings(settings):
    settings["banter_payments.plugins"] = "banter_coins\nbanter_credits"
    return settings


@pytest.fixture
def session(dbsession):
    """This directory's name for the root conftest's ``dbsession``."""
    return dbsession


@pytest.fixture
def ledger(session):
    return LedgerService(session)
