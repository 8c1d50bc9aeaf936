"""Alerts fire once when the success rate crosses the threshold, and once on recovery."""

from __future__ import annotations

import logging

import pytest
import sqlalchemy as sa
from pyramid.request import Request
from pyramid.scripting import prepare

from banter_payments.alerts.cli import main as alerts_main
from banter_payments.alerts.events import AlertRaised, AlertResolved
from banter_payments.alerts.models import AlertState
from banter_payments.alerts.rules import evaluate_alerts
from banter_payments.events import Committed

PREFIX = "/api/payments"


@pytest.fixture
def settings(settings):
    settings["alerts.min_attempts"] = "4"
    settings["alerts.window"] = "1h"
    settings["alerts.success_rate_below"] = "0.9"
    settings["ratelimit.enabled"] = "false"
    return settings


@pytest.fixture
def announced(registry):
    """Every alert event announced after its commit."""
    seen: list = []
    registry.registerHandler(lambda committed: seen.append(committed.event), (Committed,))
    return lambda: [e for e in seen if isinstance(e, AlertRaised | AlertResolved)]


def evaluate(app):
    env = prepare(registry=app.registry, request=Request.blank("/", method="POST"))
    try:
        return evaluate_alerts(env["request"])
    finally:
        env["closer"]()


def pay(testapp, auth, outcome: str) -> None:
    order = testapp.post_json(f"{PREFIX}/orders", {"sku": "coins.popular"},
                              headers=auth("alice"), status=201).json
    testapp.post_json(f"{PREFIX}/_sandbox/razorpay/checkout/{order['razorpayOrderId']}/pay",
                      {"outcome": outcome, "method": "card"})


def test_the_success_rate_alert_fires_once_and_resolves_once(
        app, testapp, auth, flush_webhooks, announced, dbsession, caplog):
    # Too few attempts to judge: nothing, whatever the rate.
    pay(testapp, auth, "failure")
    flush_webhooks()
    assert evaluate(app) == [] and announced() == []

    for outcome in ("failure", "failure", "success"):
        pay(testapp, auth, outcome)
    flush_webhooks()
    with caplog.at_level(logging.WARNING, logger="banter_payments.alerts"):
        changes = evaluate(app)
    assert [(c["alert"], c["state"], c["value"]) for c in changes] == [
        ("success_rate", "firing", "0.2500")]
    assert [type(e) for e in announced()] == [AlertRaised]
    assert "ALERT raised: success_rate" in caplog.text
    # Still breached: evaluating again (or more failures) announces nothing new.
    pay(testapp, auth, "failure")
    flush_webhooks()
    assert evaluate(app) == [] and evaluate(app) == []
    assert len(announced()) == 1
    dbsession.rollback()
    assert dbsession.get(AlertState, "success_rate").state == "firing"
    dbsession.rollback()  # the writer's BEGIN IMMEDIATE must not block the payments

    # 4 failures and 37 successes: 37/41 = 0.9024, back above 0.9.
    for _ in range(36):
        pay(testapp, auth, "success")
    flush_webhooks()
    changes = evaluate(app)
    assert [(c["alert"], c["state"]) for c in changes] == [("success_rate", "ok")]
    assert [type(e) for e in announced()] == [AlertRaised, AlertResolved]
    assert evaluate(app) == []
    assert len(announced()) == 2


def test_webhook_lag_alerts_when_p95_is_over_the_threshold(app, dbsession, announced,
                                                           settings):
    import datetime as dt

    from banter_payments.clock import utcnow
    from banter_payments.metrics.models import WebhookTiming

    now = utcnow()
    threshold_ms = 300_000
    for i in range(10):
        dbsession.add(WebhookTiming(received_at=now - dt.timedelta(minutes=i),
                                    outcome="processed", lag_ms=threshold_ms + 1,
                                    duration_ms=3))
    dbsession.commit()
    changes = evaluate(app)
    assert [(c["alert"], c["state"]) for c in changes] == [("webhook_lag", "firing")]
    assert evaluate(app) == []
    dbsession.execute(sa.update(WebhookTiming).values(lag_ms=1000))
    dbsession.commit()
    assert [(c["alert"], c["state"]) for c in evaluate(app)] == [("webhook_lag", "ok")]


def test_dead_letters_alert_through_the_outbox_hook(settings, announced):
    from pyramid.config import Configurator

    class Outbox:
        dead_count = 0

        def backlog(self, session):
            return 0

        def dead(self, session):
            return self.dead_count

    outbox = Outbox()
    with Configurator(settings=settings) as config:
        config.include("banter_payments")
        config.set_outbox_stats(outbox)
    app = config.make_wsgi_app()
    assert evaluate(app) == []
    outbox.dead_count = 3
    assert [(c["alert"], c["state"]) for c in evaluate(app)] == [("dead_letters", "firing")]
    assert evaluate(app) == []
    outbox.dead_count = 0
    assert [(c["alert"], c["state"]) for c in evaluate(app)] == [("dead_letters", "ok")]


def test_the_command_evaluates_from_an_ini_file(tmp_path, settings, capsys):
    lines = ["[app:main]", "use = egg:banter-payments"]
    lines += [f"{name} = {value}" for name, value in settings.items()]
    ini = tmp_path / "alerts.ini"
    ini.write_text("\n".join(lines) + "\n")
    assert alerts_main([str(ini)]) == 0
    assert capsys.readouterr().out.strip() == "[]"
