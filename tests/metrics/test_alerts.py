"""Alerts fire once per breach and once on recovery, through the outbox, from workers."""

from __future__ import annotations

import base64
import datetime as dt
import json
import logging
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest
import sqlalchemy as sa
from pyramid.config import Configurator
from pyramid.exceptions import ConfigurationError
from sqlalchemy.exc import IntegrityError
from standardwebhooks import Webhook, WebhookVerificationError

from banter_payments.alerts.cli import main as alerts_main
from banter_payments.alerts.events import AlertRaised, AlertResolved
from banter_payments.alerts.interfaces import IAlertService
from banter_payments.alerts.models import AlertEvent, AlertState
from banter_payments.clock import utcnow
from banter_payments.events import Committed
from banter_payments.jobs import Job
from banter_payments.metrics.models import WebhookTiming
from banter_payments.outbox.models import OutboxMessage
from banter_payments.worker.runner import Worker

PREFIX = "/api/payments"
SECRET_ENV = "BANTER_TEST_ALERTS_SECRET"
SECRET = "whsec_" + base64.b64encode(bytes(range(7, 39))).decode()


@pytest.fixture
def settings(settings):
    settings["alerts.min_attempts"] = "4"
    settings["alerts.window"] = "1h"
    settings["alerts.success_rate_below"] = "0.9"
    settings["ratelimit.enabled"] = "false"
    settings["worker.reconcile_interval_seconds"] = "0"
    return settings


@pytest.fixture
def announced(registry):
    """Every alert event announced after its commit."""
    seen: list = []
    registry.registerHandler(lambda committed: seen.append(committed.event), (Committed,))
    return lambda: [e for e in seen if isinstance(e, AlertRaised | AlertResolved)]


def evaluate(app_or_registry):
    registry = getattr(app_or_registry, "registry", app_or_registry)
    with Job(registry) as job:
        return job.find_service(IAlertService).evaluate()


def pay(testapp, auth, outcome: str) -> None:
    order = testapp.post_json(f"{PREFIX}/orders", {"sku": "coins.popular"},
                              headers=auth("alice"), status=201).json
    testapp.post_json(f"{PREFIX}/_sandbox/razorpay/checkout/{order['razorpayOrderId']}/pay",
                      {"outcome": outcome, "method": "card"})


def events(engine) -> list[tuple]:
    with engine.connect() as conn:
        return [tuple(row) for row in conn.execute(
            sa.select(AlertEvent.name, AlertEvent.episode, AlertEvent.kind)
            .order_by(AlertEvent.id))]


class OpsReceiver:
    """The ops team's webhook: verifies each delivery's Standard Webhooks signature."""

    def __init__(self) -> None:
        self.verifier = Webhook(SECRET)
        self.received: list[dict] = []
        self.rejected = 0
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *args):
                pass

            def do_POST(self):  # noqa: N802 - http.server's spelling
                body = self.rfile.read(int(self.headers.get("Content-Length", 0)))
                headers = {k.lower(): v for k, v in self.headers.items()}
                try:
                    receiver.received.append(receiver.verifier.verify(body, headers))
                    status = 204
                except WebhookVerificationError:
                    receiver.rejected += 1
                    status = 400
                self.send_response(status)
                self.send_header("Content-Length", "0")
                self.end_headers()

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}/alerts"
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()


@pytest.fixture
def ops():
    receiver = OpsReceiver()
    yield receiver
    receiver.close()


def test_the_success_rate_alert_fires_once_and_resolves_once(
        app, testapp, auth, flush_webhooks, announced, engine, caplog):
    # Too few attempts to judge: nothing, whatever the rate.
    pay(testapp, auth, "failure")
    flush_webhooks()
    assert evaluate(app) == [] and announced() == []

    for outcome in ("failure", "failure", "success"):
        pay(testapp, auth, outcome)
    flush_webhooks()
    with caplog.at_level(logging.WARNING, logger="banter_payments.alerts"):
        changes = evaluate(app)
    assert [(c["alert"], c["state"], c["value"], c["episode"]) for c in changes] == [
        ("success_rate", "firing", "0.2500", 1)]
    assert [type(e) for e in announced()] == [AlertRaised]
    assert "ALERT raised: success_rate" in caplog.text
    # Still breached: evaluating again (or more failures) announces nothing new.
    pay(testapp, auth, "failure")
    flush_webhooks()
    assert evaluate(app) == [] and evaluate(app) == []
    assert len(announced()) == 1
    with engine.connect() as conn:
        assert conn.scalar(sa.select(AlertState.state)
                           .where(AlertState.name == "success_rate")) == "firing"

    # 4 failures and 37 successes: 37/41 = 0.9024, back above 0.9.
    for _ in range(36):
        pay(testapp, auth, "success")
    flush_webhooks()
    changes = evaluate(app)
    assert [(c["alert"], c["state"], c["episode"]) for c in changes] == [
        ("success_rate", "ok", 1)]
    assert [type(e) for e in announced()] == [AlertRaised, AlertResolved]
    assert evaluate(app) == []
    assert len(announced()) == 2
    assert events(engine) == [("success_rate", 1, "raised"), ("success_rate", 1, "resolved")]


def test_webhook_lag_alerts_when_p95_is_over_the_threshold(app, dbsession, announced):
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
    assert [type(e) for e in announced()] == [AlertRaised, AlertResolved]


def dead_message(**fields) -> OutboxMessage:
    now = utcnow()
    values = {"event_id": "msg_x", "topic": "order.paid", "endpoint": "jobs",
              "channel": "http", "aggregate_type": "order", "aggregate_id": "ord_x",
              "sequence": 1, "payload": {}, "status": "dead", "attempts": 12,
              "next_attempt_at": now, "created_at": now, "updated_at": now}
    return OutboxMessage(**(values | fields))


def test_a_growing_dead_letter_queue_alerts_and_recovers(app, dbsession, announced):
    assert evaluate(app) == []
    dbsession.add_all([dead_message(aggregate_id=f"ord_{i}") for i in range(3)])
    dbsession.commit()
    changes = evaluate(app)
    assert [(c["alert"], c["state"], c["value"]) for c in changes] == [
        ("dead_letters", "firing", "3")]
    # More dead letters while it fires: still one announcement.
    dbsession.add(dead_message(aggregate_id="ord_9"))
    dbsession.commit()
    assert evaluate(app) == []
    dbsession.execute(sa.update(OutboxMessage).values(status="delivered"))
    dbsession.commit()
    assert [(c["alert"], c["state"]) for c in evaluate(app)] == [("dead_letters", "ok")]
    assert [type(e) for e in announced()] == [AlertRaised, AlertResolved]


def test_the_dead_letters_rule_reads_the_registered_outbox_stats(settings):
    class Stats:
        dead_count = 0

        def backlog(self, session):
            return 0

        def dead(self, session):
            return self.dead_count

    stats = Stats()
    with Configurator(settings=settings) as config:
        config.include("banter_payments")
        config.set_outbox_stats(stats)
    app = config.make_wsgi_app()
    assert evaluate(app) == []
    stats.dead_count = 3
    assert [(c["alert"], c["state"]) for c in evaluate(app)] == [("dead_letters", "firing")]
    assert evaluate(app) == []
    stats.dead_count = 0
    assert [(c["alert"], c["state"]) for c in evaluate(app)] == [("dead_letters", "ok")]


class TestDeliveredThroughTheOutbox:
    @pytest.fixture
    def settings(self, settings, ops, monkeypatch):
        monkeypatch.setenv(SECRET_ENV, SECRET)
        settings["alerts.webhook_url"] = ops.url
        settings["alerts.webhook_secret_env"] = SECRET_ENV
        return settings

    def test_the_worker_raises_and_resolves_to_the_ops_webhook_once_each(
            self, app, testapp, auth, flush_webhooks, ops, engine):
        worker = Worker(app.registry, name="test-worker")
        for outcome in ("failure", "failure", "failure", "success"):
            pay(testapp, auth, outcome)
        flush_webhooks()
        # One pass of every job: alerts.evaluate raises, outbox.deliver sends.
        done = worker.run_once()
        assert done["alerts.evaluate"] == 1 and done["outbox.deliver"] == 1
        assert [m["type"] for m in ops.received] == ["alert.raised"]
        raised = ops.received[0]
        assert raised["data"] | {"message": None, "summary": None} == {
            "alert": "success_rate", "state": "firing", "episode": 1, "value": "0.2500",
            "threshold": "0.9000", "message": None, "summary": None}
        assert raised["data"]["summary"].startswith(
            "[banter-payments] alert success_rate FIRING: payment success rate 1/4")
        assert raised["sequence"] == 1

        # Many more passes while it fires (every worker every minute): nothing new.
        for _ in range(3):
            worker.run_once()
        assert len(ops.received) == 1

        for _ in range(36):
            pay(testapp, auth, "success")
        flush_webhooks()
        worker.run_once()
        worker.run_once()
        assert [m["type"] for m in ops.received] == ["alert.raised", "alert.resolved"]
        assert ops.received[1]["data"]["state"] == "ok"
        assert ops.received[1]["data"]["episode"] == 1
        assert ops.received[1]["sequence"] == 2
        assert ops.rejected == 0
        with engine.connect() as conn:
            rows = conn.execute(sa.select(OutboxMessage.topic, OutboxMessage.endpoint,
                                          OutboxMessage.status)
                                .order_by(OutboxMessage.sequence)).all()
        assert [tuple(r) for r in rows] == [
            ("alert.raised", "alerts-webhook", "delivered"),
            ("alert.resolved", "alerts-webhook", "delivered")]

    def test_the_alert_message_is_written_in_the_evaluations_transaction(
            self, app, dbsession, engine):
        """A rolled-back evaluation leaves neither the state change nor a message."""
        dbsession.add_all([dead_message(aggregate_id=f"ord_{i}") for i in range(2)])
        dbsession.commit()
        with Job(app.registry) as job:
            service = job.find_service(IAlertService)
            original = service._apply

            def apply_then_fail(*args, **kwargs):
                change = original(*args, **kwargs)
                if change:
                    raise RuntimeError("the evaluation dies before its commit")
                return change

            service._apply = apply_then_fail
            with pytest.raises(RuntimeError):
                service.evaluate()
        with engine.connect() as conn:
            assert conn.scalar(sa.select(sa.func.count()).select_from(OutboxMessage)
                               .where(OutboxMessage.topic.like("alert.%"))) == 0
        assert events(engine) == []
        assert [c["alert"] for c in evaluate(app)] == ["dead_letters"]
        with engine.connect() as conn:
            assert conn.scalar(sa.select(sa.func.count()).select_from(OutboxMessage)
                               .where(OutboxMessage.topic == "alert.raised")) == 1


def test_an_ops_address_is_a_message_on_the_email_channel(settings):
    """The mail plugin's channel gets the address and a ready summary."""
    sent: list = []
    settings["alerts.email"] = "ops@example.com"
    settings["alerts.email_channel"] = "email"
    with Configurator(settings=settings) as config:
        config.include("banter_payments")
        config.commit()
        # What the notifications plugin does when it is included.
        config.add_outbox_channel("email", lambda message, endpoint: sent.append(
            (endpoint.target, message.envelope)) or "sent")
    app = config.make_wsgi_app()
    stats_fired = evaluate_with_dead_letters(app)
    assert stats_fired == ["dead_letters"]
    Worker(app.registry, jobs=["outbox.deliver"], name="t").run_once()
    assert [(to, envelope["type"]) for to, envelope in sent] == [
        ("ops@example.com", "alert.raised")]
    assert sent[0][1]["data"]["summary"].startswith(
        "[banter-payments] alert dead_letters FIRING: 1 dead outbox messages")


def evaluate_with_dead_letters(app) -> list[str]:
    from banter_payments.db import session_factories

    writer, _ = session_factories(app.registry["banter_payments.engine"])
    with writer() as session, session.begin():
        session.add(dead_message())
    return [c["alert"] for c in evaluate(app)]


def test_an_ops_address_without_a_mail_channel_stops_start_up(settings):
    settings["alerts.email"] = "ops@example.com"
    with pytest.raises(ConfigurationError, match="outbox channel 'email'"):
        with Configurator(settings=settings) as config:
            config.include("banter_payments")
        config.make_wsgi_app()


@pytest.mark.parametrize("name, value, message", [
    ("alerts.email", "not an address", "not one email address"),
    ("alerts.webhook_url", "ftp://ops.example/alerts", "is not an http"),
    ("alerts.webhook_url", "https://ops.example/alerts", "is not set"),
])
def test_bad_alert_receivers_stop_start_up(settings, name, value, message, monkeypatch):
    from banter_payments import main

    monkeypatch.delenv("ALERTS_WEBHOOK_SECRET", raising=False)
    settings[name] = value
    with pytest.raises(ConfigurationError, match=message):
        main({}, **settings)


def test_several_workers_evaluating_at_once_raise_the_alert_once(app, dbsession, engine,
                                                                  announced):
    """Workers racing on the same breach: one moves the state, the others see it moved
    (PostgreSQL: real concurrency, the conditional UPDATE waits for the winner's commit;
    SQLite: writers serialized)."""
    dbsession.add(dead_message())
    dbsession.commit()
    barrier = threading.Barrier(6)
    results: list = []
    errors: list = []

    def one_worker():
        try:
            with Job(app.registry) as job:
                service = job.find_service(IAlertService)
                barrier.wait()
                results.append(service.evaluate())
        except Exception as exc:  # pragma: no cover - reported below
            errors.append(exc)

    threads = [threading.Thread(target=one_worker) for _ in range(6)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(30)
    assert errors == []
    assert sorted(len(r) for r in results) == [0, 0, 0, 0, 0, 1]
    assert events(engine) == [("dead_letters", 1, "raised")]
    assert len(announced()) == 1


def test_an_episode_cannot_be_raised_twice(engine):
    """The last line of defence: a unique (name, episode, kind)."""
    row = {"name": "success_rate", "episode": 1, "kind": "raised", "value": "0.5",
           "threshold": "0.9", "message": "m", "occurred_at": utcnow()}
    with engine.begin() as conn:
        conn.execute(sa.insert(AlertEvent.__table__).values(id="alt_1", **row))
    with pytest.raises(IntegrityError), engine.begin() as conn:
        conn.execute(sa.insert(AlertEvent.__table__).values(id="alt_2", **row))


def test_the_admin_route_lists_states_and_what_fired(app, testapp, auth, dbsession):
    dbsession.add(dead_message())
    dbsession.commit()
    evaluate(app)
    dbsession.execute(sa.update(OutboxMessage).values(status="delivered"))
    dbsession.commit()
    evaluate(app)
    dbsession.execute(sa.update(OutboxMessage).values(status="dead"))
    dbsession.commit()
    evaluate(app)

    answer = testapp.get(f"{PREFIX}/admin/alerts?limit=2", headers=auth("ops", "admin")).json
    states = {s["name"]: s for s in answer["states"]}
    assert states["dead_letters"]["state"] == "firing"
    assert states["dead_letters"]["episode"] == 2
    assert states["success_rate"]["state"] == "ok"
    assert [(e["name"], e["kind"], e["episode"]) for e in answer["items"]] == [
        ("dead_letters", "raised", 2), ("dead_letters", "resolved", 1)]
    rest = testapp.get(f"{PREFIX}/admin/alerts?limit=2&cursor={answer['nextCursor']}",
                       headers=auth("ops", "admin")).json
    assert [(e["kind"], e["episode"]) for e in rest["items"]] == [("raised", 1)]
    assert rest["nextCursor"] is None

    testapp.get(f"{PREFIX}/admin/alerts", headers=auth("alice"), status=403)
    testapp.get(f"{PREFIX}/admin/alerts", status=401)
    bad = testapp.get(f"{PREFIX}/admin/alerts?cursor=nope", headers=auth("ops", "admin"),
                      status=400).json
    assert bad["error"]["code"] == "validation_failed"


def test_the_command_evaluates_from_an_ini_file(tmp_path, settings, capsys, dbsession):
    dbsession.add(dead_message())
    dbsession.commit()
    lines = ["[app:main]", "use = egg:banter-payments"]
    lines += [f"{name} = {value}" for name, value in settings.items()]
    ini = tmp_path / "alerts.ini"
    ini.write_text("\n".join(lines) + "\n")
    assert alerts_main([str(ini)]) == 0
    changes = json.loads(capsys.readouterr().out)
    assert [(c["alert"], c["state"]) for c in changes] == [("dead_letters", "firing")]
    assert alerts_main([str(ini)]) == 0
    assert json.loads(capsys.readouterr().out) == []


def test_the_worker_runtime_has_the_job_unless_cron_does_it(settings):
    from banter_payments import main
    from banter_payments.worker.jobs import registered_jobs

    assert registered_jobs(main({}, **settings).registry)["alerts.evaluate"].interval == 60
    settings["alerts.interval_seconds"] = "0"
    assert "alerts.evaluate" not in registered_jobs(main({}, **settings).registry)


def test_in_development_the_apps_own_worker_thread_evaluates_them(settings, engine,
                                                                   dbsession, monkeypatch):
    from banter_payments import main
    from banter_payments.worker import runner
    from tests.common.waiting import wait_for

    monkeypatch.setattr(runner, "IN_WORKER_PROCESS", False)
    settings["worker.in_process"] = "true"
    settings["alerts.interval_seconds"] = "1"
    dbsession.add(dead_message())
    dbsession.commit()
    main({}, **settings)
    try:
        wait_for(lambda: events(engine) == [("dead_letters", 1, "raised")], timeout=10)
    finally:
        runner.stop_in_process()
