"""Whatever a signed delivery carries, the answer is 2xx or 400, never a 5xx."""

from __future__ import annotations

import json

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

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


@FUZZ
@given(event=st.sampled_from(EVENTS),
       changes=st.dictionaries(
           st.sampled_from(["id", "order_id", "status", "amount", "currency", "captured",
                            "method", "error_code", "error_description", "entity"]),
           json_values, max_size=4),
       wrap=st.sampled_from(["entity", "bare", "missing"]))
def test_mutated_payment_entities(kit, testapp, order, event, changes, wrap):
    entity = dict(kit.payment_entity(order.razorpay_order_id), **changes)
    if wrap == "entity":
        body = kit.event_body(event, entity)
    elif wrap == "bare":
        body = kit.event_body(event, extra_payload={"payment": entity})
    else:
        body = kit.event_body(event, extra_payload={"payment": changes})
    response = testapp.post(URL, body, headers=kit.webhook_headers(body, None),
                            expect_errors=True)
    assert response.status_int in (200, 400), response.body
    if response.status_int == 400:
        assert response.json["error"]["code"] in ("validation_failed", "signature_invalid")


@FUZZ
@given(envelope=st.dictionaries(st.sampled_from(["event", "payload", "entity", "contains"]),
                                json_values, max_size=4))
def test_arbitrary_envelopes(kit, testapp, envelope):
    body = json.dumps(envelope).encode()
    response = testapp.post(URL, body, headers=kit.webhook_headers(body, "evt_fuzz"),
                            expect_errors=True)
    assert response.status_int in (200, 400), response.body


@FUZZ
@given(body=st.binary(max_size=200), event_id=st.none() | st.text(max_size=300))
def test_arbitrary_bytes_and_event_ids(kit, testapp, body, event_id):
    headers = kit.webhook_headers(body)
    if event_id is not None:
        headers["X-Razorpay-Event-Id"] = event_id.encode("utf-8").decode("latin-1")
    response = testapp.post(URL, body, headers=headers, expect_errors=True)
    assert response.status_int in (200, 400), response.body
