"""Text as it is typed, on every database: four-byte characters (emoji) are stored and
returned intact, and a string longer than its column is a 400 that stores nothing,
never a silent truncation (MySQL outside strict mode) or a 500 (MySQL in strict mode,
PostgreSQL). Column lengths count characters, so a note of 280 emoji fits."""

from __future__ import annotations

import sqlalchemy as sa
from banter_gifting.models import Gift

from banter_payments.orders.models import Order

GIFTS = "/api/payments/gifts"
ORDERS = "/api/payments/orders"
# Four-byte UTF-8 each (outside the Basic Multilingual Plane), and a ZWJ family.
EMOJI = "\U0001f381\U0001f525\U0001f600 gg \U0001f469\u200d\U0001f469\u200d\U0001f467"


def _gifts(dbsession) -> list[Gift]:
    dbsession.expire_all()
    return list(dbsession.scalars(sa.select(Gift)))


def test_an_emoji_note_is_stored_and_returned_intact(testapp, auth, fund, dbsession):
    fund("alice", 100)
    body = testapp.post_json(GIFTS, {"to": "bob", "coins": 5, "note": EMOJI},
                             headers=auth("alice"), status=201).json
    assert body["note"] == EMOJI
    [gift] = _gifts(dbsession)
    assert gift.note == EMOJI
    stored = dbsession.scalar(sa.select(Gift.note).where(Gift.id == body["id"]))
    assert stored.encode("utf-8") == EMOJI.encode("utf-8")


def test_a_note_as_long_as_its_column_fits_in_emoji(testapp, auth, fund, dbsession):
    fund("alice", 100)
    note = "\U0001f381" * 280
    testapp.post_json(GIFTS, {"to": "bob", "coins": 5, "note": note},
                      headers=auth("alice"), status=201)
    [gift] = _gifts(dbsession)
    assert gift.note == note


def test_a_note_longer_than_its_column_is_400_and_stores_nothing(testapp, auth, fund,
                                                                   dbsession):
    fund("alice", 100)
    for note in ("x" * 281, "\U0001f381" * 281):
        response = testapp.post_json(GIFTS, {"to": "bob", "coins": 5, "note": note},
                                     headers=auth("alice"), status=400)
        assert response.json["error"]["code"] == "validation_failed"
    assert _gifts(dbsession) == []


SERVICE_ORDER = {"amount": 25000, "currency": "INR", "externalRef": "job-\U0001f680",
                 "sourceApp": "jobs", "userId": "alice"}


def test_emoji_in_an_orders_text_and_customer_name_are_intact(testapp, auth, dbsession):
    body = {**SERVICE_ORDER, "description": EMOJI,
            "customer": {"name": f"Zoë {EMOJI}"}, "metadata": {"note": EMOJI}}
    order = testapp.post_json(ORDERS, body, headers=auth("svc", "service"), status=201).json
    assert (order["title"], order["externalRef"]) == (EMOJI, "job-\U0001f680")
    assert order["checkout"]["prefill"]["name"] == f"Zoë {EMOJI}"
    again = testapp.get(f"{ORDERS}/{order['id']}", headers=auth("alice")).json
    assert again["title"] == EMOJI
    dbsession.expire_all()
    row = dbsession.get(Order, order["id"])
    assert (row.title, row.external_ref, row.customer["name"], row.metadata_["note"]) == (
        EMOJI, "job-\U0001f680", f"Zoë {EMOJI}", EMOJI)


def test_an_order_text_longer_than_its_column_is_400(testapp, auth, dbsession):
    too_long = [{"description": "\U0001f381" * 201}, {"externalRef": "r" * 129},
                {"userId": "u" * 129}, {"customer": {"name": "n" * 121}}]
    for change in too_long:
        response = testapp.post_json(ORDERS, {**SERVICE_ORDER, **change},
                                     headers=auth("svc", "service"), status=400)
        assert response.json["error"]["code"] == "validation_failed", change
    assert dbsession.scalar(sa.select(sa.func.count()).select_from(Order)) == 0
    dbsession.rollback()  # SQLite: the writer's transaction holds the write lock
    # At the limit, in four-byte characters, it fits.
    testapp.post_json(ORDERS, {**SERVICE_ORDER, "description": "\U0001f381" * 200},
                      headers=auth("svc", "service"), status=201)
