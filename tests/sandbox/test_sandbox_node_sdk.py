"""The official Node SDK against ``banter-sandbox`` run as its own process: create, fetch,
list, checkout, verify, capture, refund, customers, errors, and a webhook it delivered
verified with the SDK's own helper.

The SDK is the npm package ``razorpay``, installed by ``make test`` (``make node-sdk``)
into ``var/node-sdk``; without it (or without Node) this test is skipped, saying so.
"""

from __future__ import annotations

import json
import os
import shutil
import socket
import subprocess
import sys
import time
from pathlib import Path

import pytest
import requests

from banter_payments.settings import SANDBOX_KEY_ID, SANDBOX_KEY_SECRET, SANDBOX_WEBHOOK_SECRET

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent.parent
NODE_MODULES = ROOT / "var" / "node-sdk" / "node_modules"
FIELDS = json.loads((HERE / "razorpay_fields.json").read_text())

pytestmark = pytest.mark.skipif(
    shutil.which("node") is None or not (NODE_MODULES / "razorpay").is_dir(),
    reason="the Node SDK is not installed (make node-sdk installs it)",
)


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@pytest.fixture
def standalone(tmp_path, receiver):
    """``banter-sandbox`` in a process of its own, delivering webhooks to ``receiver``."""
    port = free_port()
    script = Path(sys.executable).parent / "banter-sandbox"
    log_path = tmp_path / "sandbox.log"
    with log_path.open("wb") as log:
        process = subprocess.Popen(
            [str(script), "--port", str(port),
             "--database-url", f"sqlite:///{tmp_path / 'standalone.sqlite'}",
             "--webhook-url", receiver[1]],
            stdout=log, stderr=subprocess.STDOUT, cwd=tmp_path)
    base_url = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 60
        while True:
            try:
                requests.get(f"{base_url}/", timeout=1).raise_for_status()
                break
            except requests.RequestException:
                if process.poll() is not None or time.monotonic() > deadline:
                    pytest.fail(f"banter-sandbox did not start:\n{log_path.read_text()}")
                time.sleep(0.2)
        yield base_url, log_path
    finally:
        process.terminate()
        process.wait(10)


def node(*args: str, base_url: str = "", stdin: str | None = None) -> dict:
    env = {**os.environ, "NODE_PATH": str(NODE_MODULES), "BASE_URL": base_url,
           "KEY_ID": SANDBOX_KEY_ID, "KEY_SECRET": SANDBOX_KEY_SECRET}
    done = subprocess.run(["node", str(HERE / "node_sdk_flow.js"), *args], env=env,
                          input=stdin, capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr
    return json.loads(done.stdout)


def fields(kind: str, entity: dict, *extra: str) -> None:
    assert list(entity) == FIELDS[kind] + list(extra), kind
    assert entity["entity"] == kind


def test_the_node_sdk_against_the_standalone_sandbox(standalone, receiver):
    base_url, log_path = standalone
    out = node("flow", base_url=base_url)

    order = out["order"]
    fields("order", order)
    assert (order["amount"], order["receipt"], order["notes"]) == (50000, "node-1",
                                                                   {"sku": "coins"})
    assert out["fetchedOrder"] == order
    assert out["trailingSlash"]["id"] == order["id"]
    assert [o["id"] for o in out["orders"]["items"]] == [order["id"]]

    assert out["verified"] is True and out["forgedVerified"] is False
    authorized = out["authorized"]
    fields("payment", authorized, "card")
    assert (authorized["status"], authorized["card"]["last4"]) == ("authorized", "1111")
    captured = out["captured"]
    fields("payment", captured)
    assert (captured["status"], captured["captured"]) == ("captured", True)
    assert [p["id"] for p in out["orderPayments"]["items"]] == [captured["id"]]
    assert [p["id"] for p in out["payments"]["items"]] == [captured["id"]]

    refund = out["refund"]
    fields("refund", refund)
    assert (refund["amount"], refund["notes"], refund["status"]) == (1000, {"why": "node"},
                                                                     "processed")
    assert out["fetchedRefund"] == out["paymentRefund"] == refund
    assert [r["id"] for r in out["paymentRefunds"]["items"]] == [refund["id"]]
    assert [r["id"] for r in out["refunds"]["items"]] == [refund["id"]]
    assert (out["refunded"]["amount_refunded"], out["refunded"]["refund_status"]) == (
        1000, "partial")

    customer = out["customer"]
    fields("customer", customer)
    assert out["existingCustomer"] == customer
    assert out["editedCustomer"]["name"] == "Node Renamed"
    assert [c["id"] for c in out["customers"]["items"]] == [customer["id"]]

    assert out["tooMany"]["statusCode"] == 400
    assert out["tooMany"]["error"]["description"] == "The count may not be greater than 100."
    assert out["wrongKey"]["statusCode"] == 401
    assert out["missing"]["error"]["description"] == "The id provided does not exist"

    # The sandbox's worker delivered the webhooks; the Node SDK accepts their signatures.
    app, _ = receiver
    deadline = time.monotonic() + 30
    while len(app.calls) < 5 and time.monotonic() < deadline:
        time.sleep(0.2)
    events = [json.loads(call["body"])["event"] for call in app.calls]
    assert {"payment.authorized", "payment.captured", "order.paid", "refund.created",
            "refund.processed"} <= set(events)
    call = app.calls[0]
    checked = node("webhook", SANDBOX_WEBHOOK_SECRET, stdin=json.dumps(
        {"body": call["body"].decode(), "signature": call["headers"]["X-Razorpay-Signature"]}))
    assert checked == {"valid": True, "forged": False}

    # Every API call and every delivery attempt is in the sandbox's log.
    log = log_path.read_text()
    assert f"POST /v1/payments/{captured['id']}/capture 200" in log
    assert "GET /v1/orders 400" in log and f"GET /v1/orders/{order['id']} 401" in log
    assert "webhook order.paid evt_" in log and "delivered" in log
    assert SANDBOX_KEY_SECRET in log  # the start-up banner says which key to use
