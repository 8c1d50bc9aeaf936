"""``/metrics``: one count per fact, duplicates counted as duplicates, and who may read it."""

from __future__ import annotations

import ipaddress

import pytest
import sqlalchemy as sa
import webtest
from prometheus_client.parser import text_string_to_metric_families
from pyramid.exceptions import ConfigurationError

from banter_payments.metrics.access import allowed_networks, may_scrape
from banter_payments.webhooks.models import WebhookDelivery, WebhookEvent

PREFIX = "/api/payments"
LOCAL = {"HTTP_HOST": "localhost:80", "REMOTE_ADDR": "127.0.0.1"}


@pytest.fixture
def settings(settings):
    # Every webhook the sandbox raises is delivered twice.
    settings["sandbox.webhook_duplicates"] = "2"
    settings["metrics.webhook_timings_batch"] = "1"
    return settings


def scrape(app, **environ) -> dict[tuple[str, tuple], float]:
    client = webtest.TestApp(app, extra_environ=LOCAL | environ)
    text = client.get(f"{PREFIX}/metrics").text
    samples = {}
    for family in text_string_to_metric_families(text):
        for sample in family.samples:
            samples[(sample.name, tuple(sorted(sample.labels.items())))] = sample.value
    return samples


def value(samples, name: str, **labels) -> float:
    return samples.get((name, tuple(sorted(labels.items()))), 0)


def pay(testapp, auth, outcome: str, method: str = "upi") -> dict:
    order = testapp.post_json(f"{PREFIX}/orders", {"sku": "coins.popular"},
                              headers=auth("alice"), status=201).json
    testapp.post_json(f"{PREFIX}/_sandbox/razorpay/checkout/{order['razorpayOrderId']}/pay",
                      {"outcome": outcome, "method": method})
    return order


def test_each_fact_moves_its_counter_by_one_even_with_duplicated_webhooks(
        app, testapp, auth, flush_webhooks, dbsession):
    before = scrape(app)
    order = pay(testapp, auth, "success")
    flush_webhooks()
    after = scrape(app)

    def delta(name, **labels):
        return value(after, name, **labels) - value(before, name, **labels)

    assert delta("banter_orders_created_total", kind="catalog") == 1
    assert delta("banter_payments_total", outcome="captured", method="upi") == 1
    assert delta("banter_orders_paid_total", currency=order["currency"]) == 1
    assert delta("banter_order_value_minor_total", currency=order["currency"]) == order["amount"]

    events = dbsession.scalar(sa.select(sa.func.count()).select_from(WebhookEvent))
    deliveries = dbsession.scalar(sa.select(sa.func.count()).select_from(WebhookDelivery))
    assert events > 0 and deliveries == 2 * events
    first_time = (delta("banter_webhook_deliveries_total", outcome="processed")
                  + delta("banter_webhook_deliveries_total", outcome="ignored"))
    assert first_time == events
    assert delta("banter_webhook_deliveries_total", outcome="duplicate") == events
    # The per-process timings saw every delivery, duplicates as duplicates.
    assert delta("banter_webhook_processing_seconds_count", outcome="duplicate") == events
    assert delta("banter_webhook_lag_seconds_count") == deliveries
    assert delta("banter_gateway_calls_total", endpoint="create an order", outcome="ok") == 1


def test_failures_are_counted_by_code_and_reason(app, testapp, auth, flush_webhooks):
    before = scrape(app)
    pay(testapp, auth, "failure", method="card")
    flush_webhooks()
    after = scrape(app)
    failures = {labels: v for (name, labels), v in after.items()
                if name == "banter_payment_failures_total"}
    assert sum(failures.values()) - sum(
        v for (name, _), v in before.items() if name == "banter_payment_failures_total") == 1
    (labels,) = [dict(k) for k, v in failures.items() if v]
    assert labels["code"] != "unknown" and labels["reason"] != "unknown"
    assert value(after, "banter_payments_total", outcome="failed", method="card") == 1


def test_an_address_outside_the_allow_list_is_refused(settings):
    from banter_payments import main

    settings["metrics.allow"] = "10.0.0.0/8"
    settings["metrics.bearer_token"] = "scrape-token-0123456789"
    app = main({}, **settings)
    client = webtest.TestApp(app, extra_environ=LOCAL)
    refused = client.get(f"{PREFIX}/metrics", status=403)
    assert refused.json["error"]["code"] == "forbidden"
    client.get(f"{PREFIX}/metrics", headers={"Authorization": "Bearer wrong"}, status=403)
    ok = client.get(f"{PREFIX}/metrics",
                    headers={"Authorization": "Bearer scrape-token-0123456789"}, status=200)
    assert "banter_orders_created_total" in ok.text
    webtest.TestApp(app, extra_environ=LOCAL | {"REMOTE_ADDR": "10.1.2.3"}).get(
        f"{PREFIX}/metrics", status=200)


def test_production_allows_nobody_by_default():
    production = {"metrics.allow": None, "banter_payments.environment": "production"}
    assert allowed_networks(production) == []
    development = {"metrics.allow": None, "banter_payments.environment": "development"}
    assert ipaddress.ip_address("127.0.0.1") in allowed_networks(development)[0]

    class Request:
        headers: dict = {}
        remote_addr = "127.0.0.1"

    assert not may_scrape(Request(), allowed_networks(production), None)


def test_a_bad_allow_entry_stops_start_up():
    with pytest.raises(ConfigurationError, match="metrics.allow"):
        allowed_networks({"metrics.allow": ["not-an-address"],
                          "banter_payments.environment": "development"})
