"""The dispatch: handlers registered like a plugin's, failures rolled back and retried."""

from __future__ import annotations

import pytest
from pyramid.config import Configurator
from pyramid.exceptions import ConfigurationConflictError, ConfigurationError

from banter_payments.orders.models import Order
from banter_payments.webhooks.registry import IgnoreEvent, handlers_for


class Plugin:
    """A host app's handlers: it records what it saw and can be made to fail."""

    def __init__(self):
        self.seen = []
        self.broken = False

    def on_captured(self, request, event, delivery):
        self.seen.append((event["event"], delivery.id, delivery.event_id, delivery.source))
        # Work in the same transaction, which must roll back with the core's on failure.
        order_id = event["payload"]["payment"]["entity"]["order_id"]
        order = request.dbsession.query(Order).filter_by(razorpay_order_id=order_id).one()
        order.metadata_ = {"touched_by": "plugin"}
        request.dbsession.flush()
        if self.broken:
            raise RuntimeError("the plugin's database is on fire")

    def not_mine(self, request, event, delivery):
        raise IgnoreEvent("not a subscription")


@pytest.fixture
def plugin():
    return Plugin()


@pytest.fixture
def configure(plugin):
    def register(config):
        config.add_webhook_handler("payment.captured", plugin.on_captured)
        config.add_webhook_handler("subscription.charged", plugin.not_mine)

    return register


@pytest.fixture
def order(kit, dbsession):
    return kit.make_order(dbsession)


@pytest.fixture
def body(kit, order):
    return kit.event_body("payment.captured",
                          kit.payment_entity(order.razorpay_order_id, pid="pay_plugin0001"))


def test_core_and_plugin_handlers_share_one_event(registry, plugin):
    names = [h.__name__ for h in handlers_for(registry, "payment.captured")]
    assert names == ["apply_payment_event", "on_captured"]
    for event in ("payment.authorized", "payment.failed", "order.paid"):
        assert [h.__name__ for h in handlers_for(registry, event)] == ["apply_payment_event"]
    for event in ("refund.created", "refund.processed", "refund.failed"):
        # The refund feature listens too, with its own handler, after the core's.
        assert [h.__name__ for h in handlers_for(registry, event)][0] == "apply_payment_event"


def test_every_handler_sees_the_event_and_its_delivery(kit, deliver, dbsession, plugin, body,
                                                       order):
    response = deliver(body, "evt_1")

    assert plugin.seen == [("payment.captured", response.json["deliveryId"], "evt_1",
                            "razorpay")]
    stored = kit.reload(dbsession, order)
    assert (stored.status, stored.metadata_) == ("paid", {"touched_by": "plugin"})


def test_a_handler_error_rolls_everything_back_and_waits_in_the_inbox(
        kit, deliver, dbsession, plugin, body, order):
    from banter_payments.clock import utcnow

    plugin.broken = True

    response = deliver(body, "evt_1")

    # Razorpay sees a 200: a handler bug never gets the webhook disabled.
    assert (response.status_int, response.json["status"]) == (200, "queued")
    assert response.outcome == "failed"
    stored = kit.reload(dbsession, order)
    assert (stored.status, stored.metadata_) == ("created", {})  # the core's work too
    assert kit.payment_rows(dbsession, order.id) == []
    assert kit.balance(dbsession, "alice") == 0
    [delivery] = kit.deliveries(dbsession)
    assert delivery.outcome == "failed"
    assert delivery.error == "RuntimeError: the plugin's database is on fire"
    assert "Traceback (most recent call last)" in delivery.traceback
    assert "on_captured" in delivery.traceback
    [event] = kit.webhook_events(dbsession)
    assert (event.status, event.attempts) == ("failed", 1)
    # Retried by the inbox after a backoff (webhooks.inbox_retry_base_seconds).
    assert event.next_attempt_at > utcnow()


def test_a_failed_event_is_processed_when_razorpay_delivers_it_again(kit, deliver, dbsession,
                                                                     plugin, body, order):
    plugin.broken = True
    assert deliver(body, "evt_1").outcome == "failed"
    assert deliver(body, "evt_1").outcome == "failed"
    plugin.broken = False

    assert deliver(body, "evt_1").outcome == "processed"
    assert deliver(body, "evt_1").outcome == "duplicate"

    assert kit.reload(dbsession, order).status == "paid"
    assert kit.balance(dbsession, "alice") == 600
    assert [d.outcome for d in kit.deliveries(dbsession)] == [
        "failed", "failed", "processed", "duplicate"]
    [event] = kit.webhook_events(dbsession)
    assert (event.status, event.attempts, event.error) == ("processed", 3, None)


def test_the_failed_list_shows_only_failures_still_to_act_on(deliver, plugin, body,
                                                             testapp, auth):
    plugin.broken = True
    deliver(body, "evt_1")
    failing = testapp.get("/api/payments/admin/webhooks?status=failed",
                          headers=auth("ops", "admin")).json["items"]
    assert [(d["status"], d["eventStatus"]) for d in failing] == [("failed", "failed")]

    plugin.broken = False
    deliver(body, "evt_1")
    still = testapp.get("/api/payments/admin/webhooks?status=failed",
                        headers=auth("ops", "admin")).json["items"]
    assert still == []
    history = testapp.get("/api/payments/admin/webhooks?status=failed&include_resolved=true",
                          headers=auth("ops", "admin")).json["items"]
    assert [(d["status"], d["eventStatus"]) for d in history] == [("failed", "processed")]


def test_all_handlers_ignoring_an_event_ignores_it(kit, deliver, dbsession):
    body = kit.event_body("subscription.charged", extra_payload={"subscription": {}})
    assert deliver(body, "evt_1").outcome == "ignored"
    [delivery] = kit.deliveries(dbsession)
    assert delivery.error == "not a subscription"


class TestDirective:
    def _config(self, settings):
        config = Configurator(settings=dict(settings))
        config.include("banter_payments")
        return config

    def test_the_same_handler_twice_for_one_event_is_a_conflict(self, settings):
        config = self._config(settings)

        def handler(request, event, delivery):
            """A plugin's handler."""

        config.add_webhook_handler("payment.captured", handler)
        config.add_webhook_handler("payment.captured", handler)
        with pytest.raises(ConfigurationConflictError):
            config.commit()

    def test_distinct_handlers_and_dotted_names_are_fine(self, settings):
        config = self._config(settings)
        config.add_webhook_handler("payment.dispute.created", lambda r, e, d: None)
        config.add_webhook_handler(
            "payment.dispute.created",
            "banter_payments.payments.handlers.apply_payment_event")
        config.commit()
        assert len(handlers_for(config.registry, "payment.dispute.created")) == 2

    @pytest.mark.parametrize(("name", "handler"), [
        ("", lambda r, e, d: None), ("payment captured", lambda r, e, d: None),
        ("x" * 101, lambda r, e, d: None), ("payment.captured", 42),
    ])
    def test_bad_registrations_stop_start_up(self, settings, name, handler):
        config = self._config(settings)
        with pytest.raises(ConfigurationError):
            config.add_webhook_handler(name, handler)


class TestManualCapture:
    @pytest.fixture
    def settings(self, settings):
        return dict(settings, **{"razorpay.capture": "manual"})

    def test_payment_authorized_is_captured_then_fulfilled(self, kit, deliver, dbsession,
                                                           gateway, order):
        entity = gateway.add(kit.payment_entity(order.razorpay_order_id, status="authorized"))

        assert deliver(kit.event_body("payment.authorized", entity), "evt_1").outcome == (
            "processed")

        assert gateway.calls == [("capture_payment", entity["id"])]
        assert kit.reload(dbsession, order).status == "paid"
        assert kit.balance(dbsession, "alice") == 600

    def test_a_gateway_failure_fails_the_delivery_until_it_works(self, kit, deliver, dbsession,
                                                                 gateway, order):
        entity = gateway.add(kit.payment_entity(order.razorpay_order_id, status="authorized"))
        body = kit.event_body("payment.authorized", entity)
        gateway.failing.update({"capture_payment", "fetch_payment"})

        response = deliver(body, "evt_1")

        assert (response.json["status"], response.outcome) == ("queued", "failed")
        assert kit.reload(dbsession, order).status == "created"
        gateway.failing.clear()
        assert deliver(body, "evt_1").outcome == "processed"
        assert kit.reload(dbsession, order).status == "paid"


def test_nothing_rolled_back_is_announced_after_commit(settings, gateway, kit, dbsession):
    """The failed delivery's record commits, but the OrderPaid emitted inside the
    rolled-back savepoint must not reach after-commit subscribers (receipts, pushes);
    once the event is processed for real, it is announced once."""
    import webtest

    from banter_payments.events import Committed, OrderPaid
    from tests.common.inbox import drain

    announced = []
    failing = {"on": True}

    def flaky(request, event, delivery):
        if failing["on"]:
            raise RuntimeError("host handler down")

    def configure(config):
        config.add_webhook_handler("payment.captured", flaky)
        config.add_subscriber(lambda e: announced.append(e.event.order.id), Committed,
                              for_event=OrderPaid)

    testapp = webtest.TestApp(kit.make_app(settings, gateway, configure),
                              extra_environ={"HTTP_HOST": "localhost:80"})
    order = kit.make_order(dbsession)
    body = kit.event_body("payment.captured", kit.payment_entity(order.razorpay_order_id))
    headers = kit.webhook_headers(body, "evt_rollback")
    failed = testapp.post("/api/payments/webhooks/razorpay", body, headers=headers,
                          status=200)
    assert failed.json["status"] == "queued"
    drain(testapp.app)
    assert kit.reload(dbsession, order).status != "paid"
    assert announced == []

    failing["on"] = False
    testapp.post("/api/payments/webhooks/razorpay", body, headers=headers, status=200)
    drain(testapp.app)
    assert kit.reload(dbsession, order).status == "paid"
    assert announced == [order.id]
