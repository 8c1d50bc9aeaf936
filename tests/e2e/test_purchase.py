"""End to end, as a stranger would run it: real servers on loopback, the real SDK.

Two set-ups, both over real HTTP:

- the app in sandbox mode serving the emulator itself (the README's ``make run``),
  its webhook worker delivering to the app's own webhook route;
- a standalone sandbox (``banter-sandbox``) on its own port, and the app pointed at it
  with ``razorpay.base_url``, so every gateway call is the SDK over the network.
"""

from __future__ import annotations

import pytest
import razorpay
import requests

from banter_payments import main
from banter_payments.settings import SANDBOX_KEY_ID, SANDBOX_KEY_SECRET
from tests.common.waiting import wait_for

PREFIX = "/api/payments"


def _delivered(http, base) -> int:
    """How many webhook deliveries the app has recorded as processed or duplicate."""
    admin = http.post(f"{base}{PREFIX}/_sandbox/token", json={"sub": "ops", "roles": ["admin"]},
                      timeout=10).json()["token"]
    rows = http.get(f"{base}{PREFIX}/admin/webhooks", timeout=10,
                    headers={"Authorization": f"Bearer {admin}"}).json()["items"]
    return sum(row["status"] in ("processed", "duplicate") for row in rows)


@pytest.fixture
def live_app(settings, serve, monkeypatch):
    """As development.ini runs it: the sandbox's webhook worker, and the app's own worker
    thread processing its webhook inbox."""
    from banter_payments.sandbox.worker import stop_workers
    from banter_payments.worker import runner
    from banter_payments.worker.runner import stop_in_process

    # Not a banter-worker process, whatever a test that ran the command in this process
    # left behind.
    monkeypatch.setattr(runner, "IN_WORKER_PROCESS", False)
    settings["sandbox.worker"] = "true"
    settings["worker.in_process"] = "true"
    yield serve(main({}, **settings))
    stop_workers()
    stop_in_process()


def purchase(base: str, sku: str = "coins.popular", user: str = "alice",
             checkout_base: str | None = None) -> dict:
    http = requests.Session()
    token = http.post(f"{base}{PREFIX}/_sandbox/token", json={"sub": user, "roles": []},
                      timeout=10).json()["token"]
    http.headers["Authorization"] = f"Bearer {token}"
    created = http.post(f"{base}{PREFIX}/orders", json={"sku": sku}, timeout=10)
    assert created.status_code == 201, created.text
    order = created.json()
    checkout_base = checkout_base or f"{base}{PREFIX}/_sandbox/razorpay"
    checkout = requests.post(
        f"{checkout_base}/checkout/{order['razorpayOrderId']}/pay",
        json={"outcome": "success", "method": "upi"}, timeout=10).json()
    verified = http.post(f"{base}{PREFIX}/verify", json=checkout, timeout=10)
    assert verified.status_code == 200, verified.text
    return {"http": http, "order": order, "checkout": checkout, "verified": verified.json()}


def test_the_readme_flow_pays_an_order_and_grants_600_coins_once(live_app):
    result = purchase(live_app)
    http, order = result["http"], result["order"]
    assert result["verified"]["status"] == "paid"
    assert result["verified"]["isConfirmed"] is True

    # The real SDK, over HTTP, sees what the app sees.
    client = razorpay.Client(auth=(SANDBOX_KEY_ID, SANDBOX_KEY_SECRET),
                             base_url=f"{live_app}{PREFIX}/_sandbox/razorpay")
    remote = client.order.fetch(order["razorpayOrderId"])
    assert remote["status"] == "paid"
    assert remote["amount_paid"] == 44900
    payments = client.order.payments(order["razorpayOrderId"])["items"]
    assert [p["status"] for p in payments] == ["captured"]
    assert client.utility.verify_payment_signature(result["checkout"]) is True

    # The webhooks arrive through the real route and change nothing more.
    def deliveries_done():
        rows = http.get(f"{live_app}{PREFIX}/orders/{order['id']}", timeout=10).json()
        return rows["status"] == "paid"

    wait_for(deliveries_done, timeout=15, what="the order paid")
    wait_for(lambda: _delivered(http, live_app) >= 3, timeout=15, what="3 deliveries")
    wallet = http.get(f"{live_app}{PREFIX}/wallet", timeout=10).json()
    assert wallet["balances"]["coins"] == 600


def test_the_app_against_a_standalone_sandbox_over_http(settings, sandbox_url, serve):
    """Each server needs the other's address, so the sandbox's app is bound late."""
    from banter_payments.sandbox.emulator import make_emulator
    from banter_payments.sandbox.worker import stop_workers

    emulator = {}
    sandbox_base = serve(lambda environ, start: emulator["app"](environ, start))
    settings["razorpay.base_url"] = sandbox_base
    base = serve(main({}, **settings))
    emulator["app"] = make_emulator({
        "sandbox.database_url": sandbox_url, "sandbox.worker": "true",
        "sandbox.webhook_delay": "0",
        "sandbox.webhook_url": f"{base}{PREFIX}/webhooks/razorpay",
    })
    try:
        result = purchase(base, checkout_base=sandbox_base)
        assert result["verified"]["status"] == "paid"
        http = result["http"]
        wallet = http.get(f"{base}{PREFIX}/wallet", timeout=10).json()
        assert wallet["balances"]["coins"] == 600
        client = razorpay.Client(auth=(SANDBOX_KEY_ID, SANDBOX_KEY_SECRET),
                                 base_url=sandbox_base)
        assert client.order.fetch(result["order"]["razorpayOrderId"])["status"] == "paid"
    finally:
        stop_workers()
