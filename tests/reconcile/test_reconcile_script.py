"""``banter-reconcile <ini>`` against the built-in sandbox, with the real SDK."""

from __future__ import annotations

import json

import pytest

from banter_payments import main
from banter_payments.scripts.reconcile import main as reconcile_main

API = "/api/payments"


@pytest.fixture
def settings(settings):
    return dict(settings, **{"orders.reconcile_after_seconds": "0"})


@pytest.fixture
def app(settings):
    return main({}, **settings)


def test_the_script_pays_an_order_whose_webhooks_never_came(kit, testapp, auth, dbsession,
                                                            settings, tmp_path, capsys):
    ini = kit.write_ini(tmp_path / "app.ini", settings)
    order = testapp.post_json(f"{API}/orders", {"sku": "coins.popular"},
                              headers=auth("alice")).json
    testapp.post_json(f"{API}/_sandbox/razorpay/checkout/{order['razorpayOrderId']}/pay",
                      {"outcome": "success", "method": "upi"})
    # The sandbox worker is off: its webhooks wait in the outbox, never delivered.
    assert testapp.get(f"{API}/orders/{order['id']}", headers=auth("alice")).json[
        "status"] == "created"

    assert reconcile_main([ini]) == 0
    report = json.loads(capsys.readouterr().out)

    assert (report["checked"], report["paid"]) == (1, [order["id"]])
    shown = testapp.get(f"{API}/orders/{order['id']}", headers=auth("alice")).json
    assert (shown["status"], shown["isConfirmed"], shown["payment"]["status"]) == (
        "paid", True, "captured")
    assert kit.balance(dbsession, "alice") == 600

    assert reconcile_main([ini]) == 0
    assert json.loads(capsys.readouterr().out)["changed"] == 0
    assert kit.postings(dbsession, f"order:{order['id']}") == 1


def test_a_failed_checkout_is_recorded_and_the_order_stays_open(kit, testapp, auth, settings,
                                                                tmp_path, capsys):
    ini = kit.write_ini(tmp_path / "app.ini", settings)
    order = testapp.post_json(f"{API}/orders", {"sku": "coins.popular"},
                              headers=auth("alice")).json
    testapp.post_json(f"{API}/_sandbox/razorpay/checkout/{order['razorpayOrderId']}/pay",
                      {"outcome": "failure", "method": "card"})

    assert reconcile_main([ini]) == 0

    assert json.loads(capsys.readouterr().out)["attempted"] == [order["id"]]
    shown = testapp.get(f"{API}/orders/{order['id']}", headers=auth("alice")).json
    assert (shown["status"], shown["payment"]["status"]) == ("attempted", "failed")


def test_bad_arguments_are_refused(capsys):
    with pytest.raises(SystemExit) as exit_:
        reconcile_main([])
    assert exit_.value.code == 2
