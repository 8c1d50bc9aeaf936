"""Unsigned deliveries are counted per day, reason and network; only a sample is kept."""

from __future__ import annotations

import pytest
import sqlalchemy as sa

from banter_payments.webhooks.models import WebhookDelivery, WebhookRefusal
from banter_payments.webhooks.refusals import sender_network

URL = "/api/payments/webhooks/razorpay"
ADMIN = "/api/payments/admin/webhooks"


def forge(testapp, number: int, address: str, *, signed: bool = True):
    headers = {"Content-Type": "application/json", "X-Razorpay-Event-Id": f"evt_{number}"}
    if signed:
        headers["X-Razorpay-Signature"] = "ab" * 32
    return testapp.post(URL, b'{"event": "payment.captured", "payload": {}}',
                        headers=headers, extra_environ={"REMOTE_ADDR": address}, status=400)


def rows(dbsession, model):
    dbsession.rollback()
    found = list(dbsession.scalars(sa.select(model)))
    dbsession.rollback()
    return found


def test_forged_deliveries_grow_a_counter_not_the_table(testapp, auth, dbsession):
    for number in range(40):
        answer = forge(testapp, number, "203.0.113.7").json
        assert answer["error"]["code"] == "signature_invalid"
    forge(testapp, 99, "203.0.113.9", signed=False)

    kept = rows(dbsession, WebhookDelivery)
    # webhooks.refused_sample_per_source (3) of each counter
    assert len(kept) == 3 + 1
    assert {d.outcome for d in kept} == {"rejected"}
    counters = {(r.reason, r.source): r.count for r in rows(dbsession, WebhookRefusal)}
    assert counters == {("signature_invalid", "203.0.113.0/24"): 40,
                        ("signature_missing", "203.0.113.0/24"): 1}
    shown = testapp.get(f"{ADMIN}/refusals", headers=auth("ops", "admin")).json["items"]
    assert [(i["reason"], i["source"], i["count"]) for i in shown] == [
        ("signature_invalid", "203.0.113.0/24", 40),
        ("signature_missing", "203.0.113.0/24", 1)]


class TestManyNetworks:
    @pytest.fixture
    def settings(self, settings):
        settings["webhooks.refused_sources_per_day"] = "5"
        return settings

    def test_a_day_holds_a_bounded_number_of_networks(self, testapp, dbsession):
        for number in range(30):
            forge(testapp, number, f"198.{number}.0.1")

        counters = rows(dbsession, WebhookRefusal)
        assert len(counters) == 6
        assert sum(r.count for r in counters) == 30
        assert {r.source for r in counters} >= {"other"}
        assert len(rows(dbsession, WebhookDelivery)) <= 5 * 3


def test_sender_networks():
    assert sender_network("203.0.113.7") == "203.0.113.0/24"
    assert sender_network("2001:db8:1:2::7") == "2001:db8:1::/48"
    assert sender_network(None) == "unknown"
    assert sender_network("\x00") == "unknown"


def test_a_signed_refused_body_is_still_kept_every_time(kit, deliver, dbsession):
    for number in range(5):
        deliver(b"not json", f"evt_{number}", status=400)
    assert len(rows(dbsession, WebhookDelivery)) == 5
    assert rows(dbsession, WebhookRefusal) == []
