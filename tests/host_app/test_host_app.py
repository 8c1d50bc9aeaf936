"""A host app includes the core under its own prefix and sells its own item."""

import pytest
import webtest

from tests.common import hostapp as host


@pytest.fixture
def hostapp(settings):
    return webtest.TestApp(host.make_app(settings),
                           extra_environ={"HTTP_HOST": "localhost:80"})


def test_the_core_lives_under_the_hosts_prefix(hostapp):
    assert hostapp.get("/shop/pay/health").json == {"status": "ok", "database": "ok"}
    assert hostapp.get("/api/payments/health", expect_errors=True).status_int == 404


def test_the_hosts_item_appears_in_the_catalog_like_a_plugins(hostapp):
    items = {item["sku"]: item for item in hostapp.get("/shop/pay/catalog").json["items"]}
    assert items["gems.handful"] == {
        "sku": "gems.handful", "kind": "gems", "name": "A handful of gems",
        "description": "", "amount": 19900, "currency": "INR", "grants": {"gems": 50},
        "entitlements": [], "sparkles": 3,
    }
    assert items["coins.popular"]["grants"] == {"coins": 600}


def test_the_hosts_item_can_be_bought_and_paid(hostapp):
    from banter_payments.security import issue_token

    token = issue_token(hostapp.app.registry.settings, "alice", [])
    headers = {"Authorization": f"Bearer {token}"}
    order = hostapp.post_json("/shop/pay/orders", {"sku": "gems.handful"},
                              headers=headers).json
    checkout = hostapp.post_json(
        f"/shop/pay/_sandbox/razorpay/checkout/{order['razorpayOrderId']}/pay",
        {"outcome": "success", "method": "card"}).json
    paid = hostapp.post_json("/shop/pay/verify", checkout, headers=headers).json
    assert paid["status"] == "paid"
    wallet = hostapp.get("/shop/pay/wallet", headers=headers).json
    assert wallet["balances"]["gems"] == 50
    assert wallet["balances"]["coins"] == 0


def test_openapi_paths_carry_the_hosts_prefix(hostapp):
    paths = hostapp.get("/shop/pay/openapi.json").json["paths"]
    assert "/shop/pay/orders" in paths
    assert not any(path.startswith("/api/payments") for path in paths)
