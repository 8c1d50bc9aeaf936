"""Whatever a signed delivery carries, the answer is 2xx or 400, never a 5xx, and the
inbox's worker never fails on it (a failure is a handler's bug); and what it changed is
what the record says: a refused or rejected delivery moved no money beyond what its signed
payment proved, and the ledger always balances."""

from __future__ import annotations

import json

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from banter_payments.ledger.checker import check_ledger
from tests.common.inbox import drain

URL = "/api/payments/webhooks/razorpay"
EVENTS = ["payment.authorized", "payment.captured", "payment.failed", "order.paid",
          "refund.created", "refund.processed", "refund.failed", "subscription.charged"]

json_values = st.recursive(
    st.none() | st.booleans() | st.integers(min_value=-(2**70), max_value=2**70)
    | st.floats(allow_nan=False, allow_infinity=False) | st.text(max_size=30),
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=8), inner,
                                                                max_size=3),
    max_leaves=8,
)
FUZZ = settings(max_examples=150, deadline=None,
                suppress_health_check=[HealthCheck.function_scoped_fixture])


@pytest.fixture
def order(kit, dbsession):
    return kit.make_order(dbsession)


def money_state(kit, dbsession, order) -> tuple:
    """What a delivery could change for ``order``: its status, its payments, the coins."""
    return (kit.reload(dbsession, order).status,
            [(p.razorpay_payment_id, p.status, p.amount) for p in
             kit.payment_rows(dbsession, order.id)],
            kit.balance(dbsession, "alice"), kit.postings(dbsession, f"order:{order.id}"))


def post(testapp, body, headers):
    """Post, then process the inbox: (response, after-state is read by the caller)."""
    response = testapp.post(URL, body, headers=headers, expect_errors=True)
    drain(testapp.app)
    return response


def check_answer(kit, dbsession, response, before, after) -> None:
    """The answer and what was stored agree, and only a processed delivery moved money."""
    assert response.status_int in (200, 400), response.body
    if response.status_int == 400:
        assert response.json["error"]["code"] in ("validation_failed", "signature_invalid")
        answered, delivery_id = "rejected", response.json["error"]["details"].get("deliveryId")
    else:
        answered, delivery_id = response.json["status"], response.json["deliveryId"]
        assert answered in ("queued", "duplicate")
    outcome = answered
    if delivery_id is not None:
        delivery = {d.id: d for d in kit.deliveries(dbsession)}[delivery_id]
        outcome = delivery.outcome
        if answered == "queued":
            assert outcome in ("processed", "ignored", "rejected"), delivery.traceback
        else:
            assert outcome == answered
    assert set(before[1]) <= set(after[1])  # a payment once recorded is never dropped
    if outcome in ("duplicate", "ignored"):
        # No money moved and the order did not change (a second capture of a paid order
        # may be recorded, to be refunded).
        assert (after[0], after[2], after[3]) == (before[0], before[2], before[3])
    # A rejected event keeps what its signed payment entity proved before the rejection
    # (webhooks.services._dispatch); check_paid_consistently holds it to that.
    dbsession.rollback()
    assert check_ledger(dbsession) == []
    dbsession.rollback()


def check_paid_consistently(kit, dbsession, order) -> None:
    """Coins are granted at most once, and only for a captured payment of the full amount."""
    status, payments, coins, postings = money_state(kit, dbsession, order)
    assert postings in (0, 1) and coins == 600 * postings
    if postings:
        assert status == "paid"
        assert any(state in ("captured", "refunded") and amount == order.amount
                   for _, state, amount in payments), payments


@FUZZ
@given(event=st.sampled_from(EVENTS),
       changes=st.dictionaries(
           st.sampled_from(["id", "order_id", "status", "amount", "currency", "captured",
                            "method", "error_code", "error_description", "entity"]),
           json_values, max_size=4),
       wrap=st.sampled_from(["entity", "bare", "missing"]))
def test_mutated_payment_entities(kit, testapp, dbsession, order, event, changes, wrap):
    before = money_state(kit, dbsession, order)
    entity = dict(kit.payment_entity(order.razorpay_order_id), **changes)
    if wrap == "entity":
        body = kit.event_body(event, entity)
    elif wrap == "bare":
        body = kit.event_body(event, extra_payload={"payment": entity})
    else:
        body = kit.event_body(event, extra_payload={"payment": changes})
    response = post(testapp, body, kit.webhook_headers(body, None))
    check_answer(kit, dbsession, response, before, money_state(kit, dbsession, order))
    check_paid_consistently(kit, dbsession, order)


@FUZZ
@given(envelope=st.dictionaries(st.sampled_from(["event", "payload", "entity", "contains"]),
                                json_values, max_size=4))
def test_arbitrary_envelopes(kit, testapp, dbsession, order, envelope):
    before = money_state(kit, dbsession, order)
    body = json.dumps(envelope).encode()
    response = post(testapp, body, kit.webhook_headers(body, "evt_fuzz"))
    check_answer(kit, dbsession, response, before, money_state(kit, dbsession, order))
    check_paid_consistently(kit, dbsession, order)


@FUZZ
@given(body=st.binary(max_size=200), event_id=st.none() | st.text(max_size=300))
def test_arbitrary_bytes_and_event_ids(kit, testapp, dbsession, order, body, event_id):
    before = money_state(kit, dbsession, order)
    headers = kit.webhook_headers(body)
    if event_id is not None:
        headers["X-Razorpay-Event-Id"] = event_id.encode("utf-8").decode("latin-1")
    response = post(testapp, body, headers)
    check_answer(kit, dbsession, response, before, money_state(kit, dbsession, order))
    check_paid_consistently(kit, dbsession, order)
