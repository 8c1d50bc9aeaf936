"""Endpoints and channels: wrong configuration stops start-up, naming what is wrong."""

from __future__ import annotations

import pytest
from pyramid.config import Configurator
from pyramid.exceptions import ConfigurationConflictError, ConfigurationError

from banter_payments.jobs import Job
from banter_payments.outbox.endpoints import parse_endpoints
from banter_payments.payments.interfaces import IPaymentService

from_env = {"SECRET": "whsec_" + "A" * 44}


@pytest.mark.parametrize(("line", "message"), [
    ("jobs https://x.test/h SECRET", "expected <name> <url> <SECRET_ENV> <topic>"),
    ("Jobs https://x.test/h SECRET order.paid", "the name must be"),
    ("jobs ftp://x.test/h SECRET order.paid", "is not an http"),
    ("jobs https://user:pw@x.test/h SECRET order.paid", "is not an http"),
    ("jobs https://x.test/h whsec_abc order.paid", "is not an environment variable"),
    ("jobs https://x.test/h MISSING order.paid", r"\$MISSING .* is not set"),
    ("jobs https://x.test/h SECRET paid", "'paid' is not a topic"),
])
def test_a_bad_endpoint_line_stops_start_up(line, message):
    with pytest.raises(ConfigurationError, match=message):
        parse_endpoints([line], from_env)


@pytest.mark.parametrize(("secret", "message"), [
    ("plain-secret-of-enough-length", "must be a Standard Webhooks secret"),
    ("whsec_!!!notbase64", "not valid base64"),
    ("whsec_c2hvcnQ=", "at least 24 random bytes"),
])
def test_a_bad_secret_stops_start_up(secret, message):
    with pytest.raises(ConfigurationError, match=message):
        parse_endpoints(["jobs https://x.test/h SECRET order.paid"], {"SECRET": secret})


def test_an_endpoint_listed_twice_stops_start_up():
    line = "jobs https://x.test/h SECRET order.paid"
    with pytest.raises(ConfigurationError, match="listed twice"):
        parse_endpoints([line, line], from_env)


def test_endpoints_parse_with_their_topics():
    [endpoint] = parse_endpoints(
        ["jobs  https://x.test/h?a=1  SECRET  order.paid refund.processed"], from_env
    ).values()
    assert endpoint.channel == "http" and endpoint.target == "https://x.test/h?a=1"
    assert endpoint.topics == {"order.paid", "refund.processed"}
    assert endpoint.secret == from_env["SECRET"]


def test_the_app_refuses_an_endpoint_whose_secret_is_not_set(settings, monkeypatch):
    from banter_payments import main

    monkeypatch.delenv("BANTER_TEST_OUTBOX_SECRET")
    with pytest.raises(ConfigurationError, match="BANTER_TEST_OUTBOX_SECRET"):
        main({}, **settings)


def test_two_channels_with_one_name_conflict(settings):
    with pytest.raises(ConfigurationConflictError):
        with Configurator(settings=dict(settings)) as config:
            config.include("banter_payments")
            config.add_outbox_channel("email", lambda message, endpoint: None)
            config.add_outbox_channel("email", lambda message, endpoint: None)
            config.commit()


def test_a_plugin_channel_delivers_its_endpoints_messages(settings, kit, gateway, dbsession,
                                                          messages):
    """What the notifications plugin will do: its own channel and endpoint."""
    from banter_payments.outbox.jobs import deliverer_for

    sent = []

    def configure(config):
        config.add_outbox_channel("memory", lambda message, endpoint: sent.append(
            (endpoint.target, message.topic, message.payload["data"]["orderId"])))
        config.add_outbox_endpoint("receipts", "mailto:ops@example.com", channel="memory",
                                   topics=["order.paid"])

    settings["outbox.endpoints"] = ""
    app = kit.make_app(settings, gateway, configure)

    order = kit.make_order(dbsession)
    entity = kit.payment_entity(order.razorpay_order_id)
    with Job(app.registry) as job, job.tm:
        job.find_service(IPaymentService).apply_gateway_payment(
            job.dbsession.merge(order), entity, source="webhook")
    assert deliverer_for(app.registry, "w").run_batch().delivered == 1
    assert sent == [("mailto:ops@example.com", "order.paid", order.id)]
    assert [m["channel"] for m in messages()] == ["memory"]


def test_an_endpoint_added_twice_stops_start_up(settings, kit):
    def configure(config):
        config.add_outbox_endpoint("jobs", "mailto:x@example.com", channel="http",
                                   topics=["order.paid"])

    with pytest.raises(ConfigurationError, match="configured twice"):
        kit.make_app(settings, None, configure)
