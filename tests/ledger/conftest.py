"""Sessions for testing the ledger service directly, without an app."""

from __future__ import annotations

import pytest

from banter_payments.ledger.services import LedgerService

ASSETS = ("coins", "credits")


@pytest.fixture
def ledger(dbsession):
    return LedgerService(dbsession, assets=ASSETS)
