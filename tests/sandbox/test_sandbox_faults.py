"""Faults on demand: 5xx envelopes, timeouts (done or not), latency, per endpoint, from the
settings or from ``/faults``, as the official SDK sees them over HTTP."""

from __future__ import annotations

import time

import pytest
import razorpay
import requests
from pyramid.exceptions import ConfigurationError
from razorpay.errors import GatewayError, ServerError

from banter_payments.sandbox.emulator import emulator_service
from banter_payments.settings import SANDBOX_KEY_ID, SANDBOX_KEY_SECRET

KEY = (SANDBOX_KEY_ID, SANDBOX_KEY_SECRET)


@pytest.fixture
def served(make_app, serve):
    """``served(settings)`` → (base URL, SDK client, emulator) of an emulator over HTTP."""

    def start(overrides: dict | None = None):
        app = make_app(overrides)
        base_url = serve(app)
        return base_url, razorpay.Client(auth=KEY, base_url=base_url), app

    return start


def set_faults(base_url: str, plan: dict) -> requests.Response:
    return requests.post(f"{base_url}/faults", json=plan, timeout=10)


@pytest.mark.parametrize(("status", "error", "code"), [
    (500, ServerError, "SERVER_ERROR"),
    (502, GatewayError, "GATEWAY_ERROR"),
    (503, ServerError, "SERVER_ERROR"),
])
def test_an_injected_status_answers_razorpays_envelope(served, status, error, code):
    base_url, client, _ = served()
    answer = set_faults(base_url, {"error_rate": 1, "statuses": [status]})
    assert answer.status_code == 200, answer.text
    with pytest.raises(error):
        client.order.create({"amount": 1000, "currency": "INR"})
    raw = requests.get(f"{base_url}/v1/orders", auth=KEY, timeout=10)
    assert raw.status_code == status
    assert raw.json()["error"]["code"] == code
    assert list(raw.json()["error"]) == ["code", "description", "field", "source", "step",
                                         "reason", "metadata"]
    # Nothing was done: the order list (once faults are off) is empty.
    requests.delete(f"{base_url}/faults", timeout=10)
    assert client.order.all()["count"] == 0


def test_faults_apply_to_the_named_endpoints_only(served):
    base_url, client, _ = served()
    order = client.order.create({"amount": 1000, "currency": "INR"})
    set_faults(base_url, {"endpoints": {"orders.get": {"error_rate": 1, "statuses": [502]}},
                          "only_endpoints": True})
    with pytest.raises(GatewayError):
        client.order.fetch(order["id"])
    assert client.order.all()["count"] == 1
    assert client.order.create({"amount": 1000, "currency": "INR"})["status"] == "created"
    plan = requests.get(f"{base_url}/faults", timeout=10).json()
    assert plan["endpoints"]["orders.get"]["error_rate"] == 1.0
    assert plan["error_rate"] == 0.0


def test_a_share_of_calls_fails(served):
    base_url, client, _ = served({"sandbox.random_seed": "3"})
    set_faults(base_url, {"error_rate": 0.3})
    failures = 0
    for _ in range(100):
        try:
            client.order.all({"count": 1})
        except (ServerError, GatewayError):
            failures += 1
    assert 15 <= failures <= 45


def test_a_timeout_before_the_work_leaves_nothing_done(served):
    base_url, client, _ = served()
    set_faults(base_url, {"endpoints": {"orders.create": {
        "timeout_rate": 1, "timeout_seconds": 1, "timeout_applied": 0}}})
    with pytest.raises(requests.Timeout):
        client.order.create({"amount": 1000, "currency": "INR"}, timeout=0.3)
    time.sleep(1)
    assert client.order.all()["count"] == 0


def test_a_timeout_after_the_work_leaves_it_done(served):
    base_url, client, _ = served()
    set_faults(base_url, {"endpoints": {"orders.create": {
        "timeout_rate": 1, "timeout_seconds": 1, "timeout_applied": 1}}})
    with pytest.raises(requests.Timeout):
        client.order.create({"amount": 1000, "currency": "INR", "receipt": "late"}, timeout=0.3)
    assert [o["receipt"] for o in client.order.all()["items"]] == ["late"]


def test_latency_slows_every_call(served):
    base_url, client, _ = served()
    set_faults(base_url, {"latency": {"distribution": "uniform", "min_ms": 150,
                                      "max_ms": 200}})
    started = time.perf_counter()
    client.order.all()
    assert 0.15 <= time.perf_counter() - started < 2


def test_the_settings_give_the_starting_plan_and_delete_returns_to_it(served):
    base_url, client, _ = served({
        "sandbox.fault_error_rate": "1",
        "sandbox.fault_statuses": "503",
        "sandbox.fault_endpoints": "payments.get refunds.get",
    })
    order = client.order.create({"amount": 1000, "currency": "INR"})
    with pytest.raises(ServerError):
        client.payment.fetch("pay_00000000000000")
    set_faults(base_url, {})
    assert client.order.fetch(order["id"])["id"] == order["id"]
    with pytest.raises(razorpay.errors.BadRequestError):
        client.payment.fetch("pay_00000000000000")
    requests.delete(f"{base_url}/faults", timeout=10)
    with pytest.raises(ServerError):
        client.payment.fetch("pay_00000000000000")


@pytest.mark.parametrize(("plan", "message"), [
    ({"error_rate": 2}, "error_rate must be a number between 0 and 1"),
    ({"error_rate": 0.6, "timeout_rate": 0.6}, "error_rate + timeout_rate must not exceed 1"),
    ({"statuses": [404]}, "statuses must be a non-empty list of 500, 502, 503"),
    ({"endpoints": {"orders.delete": {}}}, "endpoints.orders.delete is not an endpoint"),
    ({"latency": {"distribution": "normal"}}, "latency.distribution must be one of"),
    ({"error_rat": 0.1}, "error_rat is not a fault setting"),
])
def test_a_bad_plan_is_refused_and_changes_nothing(served, plan, message):
    base_url, client, _ = served()
    set_faults(base_url, {"error_rate": 0})
    answer = set_faults(base_url, plan)
    assert answer.status_code == 400
    assert answer.json()["error"]["description"].startswith(message)
    assert client.order.all()["count"] == 0


def test_bad_fault_settings_stop_start_up(make_app):
    with pytest.raises(ConfigurationError, match="fault_error_rate"):
        make_app({"sandbox.fault_error_rate": "1.5"})
    with pytest.raises(ConfigurationError, match="orders.delete is not an endpoint"):
        make_app({"sandbox.fault_endpoints": "orders.delete"})


def test_faults_are_per_emulator(served):
    first_url, first, first_app = served()
    second_url, second, _ = served()
    set_faults(first_url, {"error_rate": 1})
    with pytest.raises((ServerError, GatewayError)):
        first.order.all()
    assert second.order.all()["count"] == 0
    assert emulator_service(first_app).faults.plan.default.error_rate == 1.0


def test_the_apps_verify_answers_502_during_a_fault_and_pays_after(testapp, auth):
    """In the app, through the mounted control route: the SDK in-process, real envelopes."""
    api = "/api/payments"
    headers = auth("alice")
    order = testapp.post_json(f"{api}/orders", {"sku": "coins.popular"}, headers=headers).json
    checkout = testapp.post_json(
        f"{api}/_sandbox/razorpay/checkout/{order['razorpayOrderId']}/pay", {}).json
    testapp.post_json(f"{api}/_sandbox/razorpay/faults", {
        "endpoints": {"payments.get": {"error_rate": 1, "statuses": [502]}}})
    failed = testapp.post_json(f"{api}/verify", checkout, headers=headers, status=502).json
    assert failed["error"]["code"] == "gateway_error"
    assert testapp.get(f"{api}/orders/{order['id']}", headers=headers).json["status"] != "paid"
    assert testapp.get(f"{api}/wallet", headers=headers).json["balances"]["coins"] == 0
    testapp.delete(f"{api}/_sandbox/razorpay/faults")
    paid = testapp.post_json(f"{api}/verify", checkout, headers=headers).json
    assert paid["status"] == "paid"
