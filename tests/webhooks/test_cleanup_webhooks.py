"""``banter-cleanup-webhooks <ini>``: deliveries, events and refusal counters past
``webhooks.retention_days`` are deleted; failures still to act on are kept."""

from __future__ import annotations

import datetime as dt
import json

import pytest
import sqlalchemy as sa

from banter_payments.clock import utcnow
from banter_payments.scripts.cleanup_webhooks import main as cleanup_main
from banter_payments.webhooks.models import WebhookDelivery, WebhookEvent, WebhookRefusal

URL = "/api/payments/webhooks/razorpay"


class Outage:
    broken = False

    def __call__(self, request, event, delivery):
        if self.broken:
            raise ConnectionError("the CRM is down")


@pytest.fixture
def outage():
    return Outage()


@pytest.fixture
def configure(outage):
    return lambda config: config.add_webhook_handler("payment.authorized", outage)


def _age(dbsession, days: int) -> None:
    """Everything stored so far happened ``days`` ago."""
    then = utcnow() - dt.timedelta(days=days)
    dbsession.execute(sa.update(WebhookDelivery).values(received_at=then))
    dbsession.execute(sa.update(WebhookEvent).values(created_at=then, updated_at=then))
    dbsession.execute(sa.update(WebhookRefusal).values(day=then.date()))
    dbsession.commit()


def test_old_deliveries_are_deleted_and_recent_and_failed_ones_kept(
        kit, testapp, deliver, dbsession, settings, outage, tmp_path, capsys):
    settings = dict(settings, **{"webhooks.retention_days": "30"})
    ini = kit.write_ini(tmp_path / "app.ini", settings)
    old = kit.make_order(dbsession)
    captured = kit.payment_entity(old.razorpay_order_id)
    processed = deliver(kit.event_body("payment.captured", captured), "evt_old").json
    # A replay of the old delivery: it outlives its original's link.
    replayed = testapp.post_json(f"/api/payments/admin/webhooks/{processed['deliveryId']}"
                                 "/replay", {}, headers=kit_admin(testapp)).json
    outage.broken = True
    failing = kit.make_order(dbsession)
    deliver(kit.event_body("payment.authorized", kit.payment_entity(
        failing.razorpay_order_id, status="authorized")), "evt_failed")
    testapp.post(URL, b"{}", headers={"X-Razorpay-Signature": "00" * 32}, status=400)
    _age(dbsession, 31)
    recent = deliver(kit.event_body("subscription.charged", extra_payload={"s": {}}),
                     "evt_recent").json

    assert cleanup_main([ini]) == 0

    removed = json.loads(capsys.readouterr().out.splitlines()[-1])
    assert removed == {"deliveries": 3, "events": 1, "refusals": 1}
    kept = {d.id: d for d in kit.deliveries(dbsession)}
    assert recent["deliveryId"] in kept
    assert replayed["id"] not in kept
    assert {d.event_id for d in kept.values()} == {"evt_recent", "evt_failed"}
    events = {e.event_id: e.status for e in kit.webhook_events(dbsession)}
    assert events == {"evt_failed": "failed", "evt_recent": "ignored"}
    dbsession.rollback()
    assert dbsession.scalar(sa.select(sa.func.count()).select_from(WebhookRefusal)) == 0
    dbsession.rollback()
    # Nothing left to remove: a second run removes nothing.
    assert cleanup_main([ini]) == 0
    assert json.loads(capsys.readouterr().out.splitlines()[-1]) == {
        "deliveries": 0, "events": 0, "refusals": 0}


def kit_admin(testapp):
    from banter_payments.security import issue_token

    token = issue_token(testapp.app.registry.settings, "ops", ["admin"], ttl_seconds=60)
    return {"Authorization": f"Bearer {token}"}


def test_the_retention_has_a_floor(kit, settings, tmp_path):
    from pyramid.exceptions import ConfigurationError

    from banter_payments.settings import parse_settings

    with pytest.raises((ConfigurationError, ValueError)):
        parse_settings({**settings, "webhooks.retention_days": "1"}, environ={})
