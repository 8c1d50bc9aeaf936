"""Sessions for testing the ledger service directly, without an app."""

from __future__ import annotations

import pytest

from banter_payments.ledger.services import LedgerService

ASSETS = ("coins", "credits")


@pytest.fixture
def session(dbsession):
    """This directory's name for the root conftest's ``dbsession``."""
    return dbsession


@pytest.fixture
def ledger(session):
    return LedgerService(session, assets=ASSETS)
