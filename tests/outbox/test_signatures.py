"""Deliveries are signed the Standard Webhooks way and verify with its own verifier."""

from __future__ import annotations

import base64
import json

import pytest
from standardwebhooks import Webhook, WebhookVerificationError

from banter_payments.outbox.channels import signed_headers


@pytest.fixture
def delivered(pay, deliverer, receiver):
    order = pay(sku=None, user_id=None, metadata={"jobId": 1})
    assert deliverer.run_batch().delivered == 1
    [request] = receiver.requests
    return order, request


def test_a_delivery_verifies_with_the_standardwebhooks_verifier(delivered, outbox_secret,
                                                                messages):
    order, request = delivered
    payload = Webhook(outbox_secret).verify(request["body"], request["headers"])
    assert set(payload) == {"id", "type", "occurredAt", "sequence", "data"}
    assert payload["type"] == "order.paid" and payload["sequence"] == 1
    assert payload["data"]["orderId"] == order.id
    assert payload["data"]["metadata"] == {"jobId": 1}
    assert request["headers"]["webhook-id"] == payload["id"] == messages()[0]["event_id"]
    assert request["headers"]["content-type"] == "application/json"
    assert messages()[0]["status"] == "delivered"


def test_a_changed_body_fails_verification(delivered, outbox_secret):
    _order, request = delivered
    payload = json.loads(request["body"])
    payload["data"]["amount"] = 1
    with pytest.raises(WebhookVerificationError):
        Webhook(outbox_secret).verify(json.dumps(payload).encode(), request["headers"])


def test_a_changed_timestamp_fails_verification(delivered, outbox_secret):
    _order, request = delivered
    headers = dict(request["headers"])
    headers["webhook-timestamp"] = str(int(headers["webhook-timestamp"]) - 1)
    with pytest.raises(WebhookVerificationError):
        Webhook(outbox_secret).verify(request["body"], headers)


def test_another_secret_fails_verification(delivered):
    _order, request = delivered
    other = "whsec_" + base64.b64encode(b"another secret of 32 bytes......").decode()
    with pytest.raises(WebhookVerificationError):
        Webhook(other).verify(request["body"], request["headers"])


def test_a_changed_id_fails_verification(delivered, outbox_secret):
    _order, request = delivered
    headers = dict(request["headers"], **{"webhook-id": "msg_other"})
    with pytest.raises(WebhookVerificationError):
        Webhook(outbox_secret).verify(request["body"], headers)


def test_signed_headers_are_the_spec_format(outbox_secret):
    headers = signed_headers("msg_1", '{"a":1}', outbox_secret)
    assert headers["webhook-signature"].startswith("v1,")
    assert headers["webhook-timestamp"].isdigit()
    Webhook(outbox_secret).verify('{"a":1}', headers)
