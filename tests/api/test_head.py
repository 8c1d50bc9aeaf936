"""HEAD answers like GET without a body, on every GET route of every enabled plugin.

The walk reads the served OpenAPI document, so a route added later (a plugin's too) is
walked without touching this test; a path parameter it does not know fails the test
instead of being skipped.
"""

from __future__ import annotations

import json

import pytest
from webtest import TestApp

PREFIX = "/api/payments"
PLUGINS = "banter_coins\nbanter_credits\nbanter_gifting"


@pytest.fixture
def settings(settings):
    settings["banter_payments.plugins"] = PLUGINS
    settings["gifting.policy"] = "allow_all"
    settings["ratelimit.enabled"] = "false"
    return settings


@pytest.fixture
def known_ids(testapp, auth):
    """Real ids for every path parameter of a GET route: an order and a delivery."""
    from banter_payments.settings import SANDBOX_WEBHOOK_SECRET
    from banter_payments.webhooks.signatures import sign

    order = testapp.post_json(f"{PREFIX}/orders", {"sku": "coins.popular"},
                              headers=auth("alice")).json
    body = json.dumps({"event": "payment.captured", "payload": {}}).encode()
    delivery = testapp.post(f"{PREFIX}/webhooks/razorpay", body, headers={
        "Content-Type": "application/json", "X-Razorpay-Event-Id": "evt_head",
        "X-Razorpay-Signature": sign(body, SANDBOX_WEBHOOK_SECRET)}, status="*").json
    delivery_id = delivery.get("deliveryId") or delivery["error"]["details"]["deliveryId"]
    return {"order_id": order["id"], "delivery_id": delivery_id}


def _fill(path: str, ids: dict[str, str]) -> str:
    for part in path.split("/"):
        if part.startswith("{"):
            name = part.strip("{}")
            assert name in ids, f"{path}: give the walk a real {name}"
            path = path.replace(part, ids[name])
    return path


def test_every_get_route_answers_head_like_get(testapp: TestApp, auth, known_ids):
    document = testapp.get(f"{PREFIX}/openapi.json").json
    headers = auth("alice", "admin", "service")
    walked = []
    for path, operations in document["paths"].items():
        if "get" not in operations:
            continue
        url = _fill(path, known_ids)
        # From loopback, which development's metrics.allow lets read /metrics.
        loopback = {"REMOTE_ADDR": "127.0.0.1"}
        got = testapp.get(url, headers=headers, status="*", extra_environ=loopback)
        head = testapp.head(url, headers=headers, status="*", extra_environ=loopback)
        assert got.status_int == 200, (url, got.text)
        assert head.status_int == got.status_int, (url, head.status)
        assert head.body == b"", url
        assert head.content_type == got.content_type, url
        walked.append(path)
    # The plugins' GET routes are part of the walk, not only the core's.
    assert f"{PREFIX}/credits/summary" in walked
    assert {f"{PREFIX}/orders", f"{PREFIX}/orders/{{order_id}}",
            f"{PREFIX}/admin/webhooks/{{delivery_id}}",
            f"{PREFIX}/wallet/transactions"} <= set(walked)


def test_head_on_a_list_validates_its_query_like_get(testapp, auth):
    got = testapp.get(f"{PREFIX}/orders?limit=0", headers=auth("alice"), status=400)
    head = testapp.head(f"{PREFIX}/orders?limit=0", headers=auth("alice"), status=400)
    assert got.json["error"]["code"] == "validation_failed"
    assert head.body == b""
