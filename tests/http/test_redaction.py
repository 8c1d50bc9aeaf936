"""Secrets and signatures never appear in logs or error bodies."""

from __future__ import annotations

import hashlib
import hmac
import json
import logging

import pytest

from banter_payments.http.redaction import REDACTED, RedactingFilter, redact, register_secrets
from banter_payments.settings import (
    DEVELOPMENT_JWT_SECRET,
    SANDBOX_KEY_SECRET,
    SANDBOX_WEBHOOK_SECRET,
)

PREFIX = "/api/payments"
JWT = ("eyJhbGciOiJIUzI1NiIsInR5cCI6IkpXVCJ9.eyJzdWIiOiJhbGljZSJ9."
       "c2lnbmF0dXJlLW9mLXRoZS10b2tlbg")
SIGNATURE = hmac.new(b"k", b"order|pay", hashlib.sha256).hexdigest()


@pytest.mark.parametrize("text", [
    f"Authorization: Bearer {JWT}",
    "Authorization: Basic cnpwX3Rlc3Q6c2VjcmV0LXZhbHVl",
    f"headers={{'X-Razorpay-Signature': '{SIGNATURE}'}}",
    f'{{"razorpay_signature": "{SIGNATURE}", "razorpay_order_id": "order_1"}}',
    f"razorpay_signature={SIGNATURE}&razorpay_payment_id=pay_1",
    "key_secret=abcdefghijkl",
    f"a token {JWT} in prose",
])
def test_redact_removes_credentials_and_signatures(text):
    cleaned = redact(text)
    assert REDACTED in cleaned
    for secret in (JWT, SIGNATURE, "cnpwX3Rlc3Q6c2VjcmV0LXZhbHVl", "abcdefghijkl"):
        assert secret not in cleaned


def test_redact_keeps_what_is_not_secret():
    text = '{"error": {"code": "signature_invalid", "message": "The signature does not verify."}}'
    assert redact(text) == text
    assert redact("order ord_01JD payment pay_123 amount 44900") == (
        "order ord_01JD payment pay_123 amount 44900")


def test_configured_secret_values_are_removed_anywhere():
    register_secrets(["a-configured-secret-value-42"])
    assert redact("x=a-configured-secret-value-42!") == f"x={REDACTED}!"


def test_every_record_is_redacted_whatever_the_logger(app, caplog):
    caplog.set_level(logging.DEBUG)
    logging.getLogger("some.host.library").warning("calling with %s", {
        "Authorization": f"Bearer {JWT}", "key_secret": SANDBOX_KEY_SECRET})
    try:
        raise ValueError(f"bad signature {SIGNATURE}")
    except ValueError:
        logging.getLogger("waitress").exception("failed")
    assert JWT not in caplog.text and SANDBOX_KEY_SECRET not in caplog.text
    assert SIGNATURE not in caplog.text
    assert caplog.text.count(REDACTED) >= 3


def test_the_filter_redacts_for_handlers_configured_elsewhere():
    record = logging.LogRecord("x", logging.INFO, __file__, 1, "sig %s", (SIGNATURE,), None)
    assert RedactingFilter().filter(record) is True
    assert record.getMessage() == f"sig {REDACTED}"


def _webhook_body(razorpay_payment_id: str) -> bytes:
    return json.dumps({
        "entity": "event", "account_id": "acc_test", "event": "payment.captured",
        "contains": ["payment"], "created_at": 1700000000,
        "payload": {"payment": {"entity": {"id": razorpay_payment_id, "entity": "payment"}}},
    }).encode()


def test_a_purchase_with_bad_signatures_logs_no_secret(testapp, auth, caplog):
    """Everything at DEBUG, SQL statements with their parameters included."""
    caplog.set_level(logging.DEBUG)
    caplog.set_level(logging.INFO, logger="sqlalchemy.engine")
    headers = auth("alice")
    token = headers["Authorization"].split()[1]
    order = testapp.post_json(f"{PREFIX}/orders", {"sku": "coins.popular"}, headers=headers,
                              status=201).json
    checkout = testapp.post_json(
        f"{PREFIX}/_sandbox/razorpay/checkout/{order['razorpayOrderId']}/pay",
        {"outcome": "success", "method": "upi"}, status=200).json
    good_signature = checkout["razorpay_signature"]
    bad_signature = hmac.new(b"wrong", b"x", hashlib.sha256).hexdigest()
    bad = dict(checkout, razorpay_signature=bad_signature)
    error = testapp.post_json(f"{PREFIX}/verify", bad, headers=headers, status=400)
    assert error.json["error"]["code"] == "signature_invalid"

    body = _webhook_body(checkout["razorpay_payment_id"])
    forged = hmac.new(b"not-the-webhook-secret", body, hashlib.sha256).hexdigest()
    webhook = testapp.post(f"{PREFIX}/webhooks/razorpay", body, headers={
        "Content-Type": "application/json", "X-Razorpay-Signature": forged,
        "X-Razorpay-Event-Id": "evt_redaction_1"}, expect_errors=True)
    assert webhook.status_int == 400

    verified = testapp.post_json(f"{PREFIX}/verify", checkout, headers=headers, status=200)
    assert verified.json["status"] == "paid"

    # The SQL log, with its parameters, is what would leak stored signatures.
    assert any(r.name.startswith("sqlalchemy.engine") for r in caplog.records)
    logged = caplog.text
    for secret in (SANDBOX_KEY_SECRET, SANDBOX_WEBHOOK_SECRET, DEVELOPMENT_JWT_SECRET, token,
                   good_signature, bad_signature, forged):
        assert secret not in logged
    for response in (error, webhook):
        for secret in (SANDBOX_KEY_SECRET, SANDBOX_WEBHOOK_SECRET, DEVELOPMENT_JWT_SECRET,
                       token, good_signature, bad_signature, forged):
            assert secret not in response.text
