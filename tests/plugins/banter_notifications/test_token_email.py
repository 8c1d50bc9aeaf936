"""A user the host's directory has no address for is mailed at the verified ``email``
claim of the token they bought with (captured on the order as its customer's address);
an unverified claim is never used."""

from __future__ import annotations

import pytest

from banter_payments.security import issue_token, verified_email

from .conftest import PREFIX, deliver_webhooks, send_mail, wait_for_mail


def headers(registry, sub, **claims):
    token = issue_token(registry.settings, sub, extra=claims)
    return {"Authorization": f"Bearer {token}"}


def buy(testapp, registry, sub, **claims):
    order = testapp.post_json(f"{PREFIX}/orders", {"sku": "coins.popular"},
                              headers=headers(registry, sub, **claims)).json
    testapp.post_json(f"{PREFIX}/_sandbox/razorpay/checkout/{order['razorpayOrderId']}/pay",
                      {"outcome": "success", "method": "card"})
    return order


def test_the_verified_claim_receives_the_receipt(app, testapp, registry, smtp):
    buy(testapp, registry, "newcomer", email="newcomer@example.net", email_verified=True)
    deliver_webhooks(app)
    assert send_mail(registry) == 1
    [mail] = wait_for_mail(smtp, 1)
    assert mail["To"] == "newcomer@example.net"


def test_an_unverified_claim_is_not_mailed(app, testapp, registry, smtp):
    buy(testapp, registry, "newcomer", email="newcomer@example.net", email_verified=False)
    buy(testapp, registry, "stranger", email="stranger@example.net")
    deliver_webhooks(app)
    assert send_mail(registry) == 0


def test_the_directory_wins_over_the_claim(app, testapp, registry, smtp):
    buy(testapp, registry, "alice", email="other@example.net", email_verified=True)
    deliver_webhooks(app)
    assert send_mail(registry) == 1
    [mail] = wait_for_mail(smtp, 1)
    assert "alice@example.com" in mail["To"]


@pytest.mark.parametrize("claims, expected", [
    ({"email": "a@b.example", "email_verified": True}, "a@b.example"),
    ({"email": "a@b.example", "email_verified": "true"}, None),
    ({"email": "a@b.example"}, None),
    ({"email": "a@b.example\r\nBcc: x@evil.test", "email_verified": True}, None),
    ({"email": "no at sign", "email_verified": True}, None),
    ({"email": "a" * 250 + "@b.example", "email_verified": True}, None),
    ({"email": ["a@b.example"], "email_verified": True}, None),
])
def test_only_a_plain_verified_address_is_taken(claims, expected):
    assert verified_email(claims) == expected
