"""Sessions for testing the ledger service directly, without an app."""

from __future__ import annotations

import pytest

from banter_payments.db import session_factories
from banter_payments.ledger.services import LedgerService

ASSETS = ("coins", "credits")


@pytest.fixture
def session_factory(engine):
    writer, _reader = session_factories(engine)
    return writer


@pytest.fixture
def session(session_factory):
    session = session_factory()
    yield session
    session.rollback()
    session.close()


@pytest.fixture
def ledger(session):
    return LedgerService(session, assets=ASSETS)
