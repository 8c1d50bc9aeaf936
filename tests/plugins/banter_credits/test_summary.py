"""``GET /credits/summary``: lifetime credits, credits spent, money spent on plans."""

from __future__ import annotations

import pytest

from banter_payments.ledger.services import LedgerService
from banter_payments.orders.models import Order

SUMMARY = "/api/payments/credits/summary"


@pytest.fixture
def settings(settings):
    settings["banter_payments.plugins"] = "banter_coins\nbanter_credits"
    return settings


@pytest.fixture
def session(dbsession):
    """This directory's name for the root conftest's ``dbsession``."""
    return dbsession


def paid_order(user_id, sku, amount, refunded=0, status="paid", currency="INR"):
    return Order(user_id=user_id, created_by=user_id, sku=sku, amount=amount,
                 currency=currency, status=status, refunded_amount=refunded)


def test_a_new_user_has_nothing(testapp, auth):
    assert testapp.get(SUMMARY, headers=auth("alice")).json == {
        "userId": "alice", "balance": 0, "lifetimeCredits": 0, "creditsSpent": 0,
        "creditsRefunded": 0, "purchases": 0, "totalSpent": []}


def test_lifetime_credits_and_money_spent(testapp, auth, session):
    ledger = LedgerService(session)
    ledger.grant("alice", {"credits": 500}, "order:1", "Purchase of Standard")
    ledger.grant("alice", {"credits": 100}, "order:2", "Purchase of Basic")
    ledger.debit("alice", "credits", 120, "host:a", "AI reply")
    ledger.clawback("alice", {"credits": 40}, "refund:1", "Refund of Basic")
    ledger.grant("alice", {"coins": 600}, "order:3", "Purchase of Popular Pack")
    session.add_all([
        paid_order("alice", "credits.standard", 450000),
        paid_order("alice", "credits.basic", 100000, refunded=40000),
        paid_order("alice", "credits.basic", 100000, status="created"),
        paid_order("alice", "coins.popular", 44900),
        paid_order("bob", "credits.basic", 100000),
    ])
    session.commit()

    assert testapp.get(SUMMARY, headers=auth("alice")).json == {
        "userId": "alice", "balance": 440, "lifetimeCredits": 600, "creditsSpent": 120,
        "creditsRefunded": 40, "purchases": 2,
        "totalSpent": [{"amount": 510000, "currency": "INR"}]}


def test_another_users_summary_is_for_admins(testapp, auth, session):
    LedgerService(session).grant("bob", {"credits": 100}, "order:1", "Purchase")
    session.commit()
    response = testapp.get(SUMMARY, {"userId": "bob"}, headers=auth("alice"), status=404)
    assert response.json["error"]["code"] == "not_found"
    body = testapp.get(SUMMARY, {"userId": "bob"}, headers=auth("ops", "admin")).json
    assert (body["userId"], body["lifetimeCredits"]) == ("bob", 100)


def test_needs_a_token_and_a_clean_query(testapp, auth):
    assert testapp.get(SUMMARY, status=401).json["error"]["code"] == "unauthenticated"
    response = testapp.get(SUMMARY, {"x": "1"}, headers=auth("alice"), status=400)
    assert response.json["error"]["code"] == "validation_failed"


def test_the_catalog_lists_the_plans(testapp):
    items = testapp.get("/api/payments/catalog").json["items"]
    plans = [item for item in items if item["kind"] == "credits"]
    assert [(p["sku"], p["pricePerCredit"]) for p in plans] == [
        ("credits.basic", 1000), ("credits.standard", 900), ("credits.premium", 800),
        ("credits.enterprise", 667), ("credits.ultimate", 600)]
