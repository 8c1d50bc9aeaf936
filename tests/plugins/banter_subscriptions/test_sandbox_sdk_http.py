"""The sandbox's Subscriptions, as the official SDK sees them over real HTTP: plans,
subscriptions, invoices, the subscription checkout and the clock."""

import threading

import pytest
import razorpay
import requests
import waitress.server

from banter_payments import main
from banter_payments.sandbox.subscriptions import subscription_signature
from banter_payments.settings import SANDBOX_KEY_ID, SANDBOX_KEY_SECRET

from .conftest import SANDBOX


@pytest.fixture
def live(settings):
    server = waitress.server.create_server(main({}, **settings), host="127.0.0.1", port=0,
                                           threads=4)
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.effective_port}"
    server.close()


def test_plans_subscriptions_invoices_and_the_clock(live):
    client = razorpay.Client(auth=(SANDBOX_KEY_ID, SANDBOX_KEY_SECRET),
                             base_url=f"{live}{SANDBOX}")
    plan = client.plan.create({"period": "monthly", "interval": 1,
                               "item": {"name": "Premium", "amount": 9900,
                                        "currency": "INR"}})
    assert plan["id"].startswith("plan_") and plan["entity"] == "plan"
    assert plan["item"]["amount"] == 9900 and plan["notes"] == []
    assert client.plan.fetch(plan["id"]) == plan
    assert client.plan.all()["items"] == [plan]

    sub = client.subscription.create({"plan_id": plan["id"], "total_count": 2,
                                      "customer_notify": 1, "notes": {"who": "ann"}})
    assert (sub["status"], sub["paid_count"], sub["remaining_count"]) == ("created", 0, 2)
    paid = requests.post(f"{live}{SANDBOX}/subscriptions/{sub['id']}/checkout",
                         json={"outcome": "success", "method": "upi"}, timeout=10).json()
    assert paid["razorpay_subscription_id"] == sub["id"]
    assert paid["razorpay_signature"] == subscription_signature(
        paid["razorpay_payment_id"], sub["id"], SANDBOX_KEY_SECRET)
    active = client.subscription.fetch(sub["id"])
    assert (active["status"], active["paid_count"]) == ("active", 1)
    assert active["charge_at"] == active["current_end"]

    invoices = client.invoice.all({"subscription_id": sub["id"]})["items"]
    assert [(i["status"], i["payment_id"], i["amount_paid"]) for i in invoices] == [
        ("paid", paid["razorpay_payment_id"], 9900)]
    assert (invoices[0]["billing_start"], invoices[0]["billing_end"]) == (
        active["current_start"], active["current_end"])
    payment = client.payment.fetch(paid["razorpay_payment_id"])
    assert (payment["status"], payment["method"]) == ("captured", "upi")

    moved = requests.post(f"{live}{SANDBOX}/clock", json={"advance": "P1M"},
                          timeout=10).json()
    assert moved["charged"] == 1 and moved["now"] >= active["current_end"]
    done = client.subscription.fetch(sub["id"])
    assert (done["status"], done["paid_count"], done["remaining_count"]) == (
        "completed", 2, 0)
    assert done["current_start"] == active["current_end"]
    with pytest.raises(razorpay.errors.BadRequestError):
        client.subscription.cancel(sub["id"], {"cancel_at_cycle_end": 0})


def test_what_razorpay_refuses_the_sandbox_refuses(live):
    client = razorpay.Client(auth=(SANDBOX_KEY_ID, SANDBOX_KEY_SECRET),
                             base_url=f"{live}{SANDBOX}")
    for bad in ({"period": "hourly", "interval": 1,
                 "item": {"name": "x", "amount": 9900, "currency": "INR"}},
                {"period": "monthly", "interval": 1,
                 "item": {"name": "x", "amount": 99.5, "currency": "INR"}},
                {"period": "monthly", "interval": 1, "item": {"name": "x"}},
                {"period": "monthly", "interval": 1, "extra": 1,
                 "item": {"name": "x", "amount": 9900, "currency": "INR"}}):
        with pytest.raises(razorpay.errors.BadRequestError):
            client.plan.create(bad)
    with pytest.raises(razorpay.errors.BadRequestError):
        client.subscription.create({"plan_id": "plan_nope", "total_count": 1})
    with pytest.raises(razorpay.errors.BadRequestError):
        client.subscription.fetch("sub_nope")
    for advance in ("P", "1M", -5, 0, True, "P99Y"):
        answer = requests.post(f"{live}{SANDBOX}/clock", json={"advance": advance},
                               timeout=10)
        assert answer.status_code == 400, advance
        assert answer.json()["error"]["field"] == "advance"
    wrong_key = razorpay.Client(auth=(SANDBOX_KEY_ID, "wrong"), base_url=f"{live}{SANDBOX}")
    with pytest.raises(razorpay.errors.BadRequestError):
        wrong_key.plan.all()


def test_a_standalone_sandbox_serves_subscriptions_and_pause_resume(tmp_path, serve):
    """``banter-sandbox`` on a database of its own, built by its own history (s0002
    adds the Subscriptions tables), as the SDK sees it over HTTP."""
    from banter_payments.sandbox.emulator import emulator_service
    from banter_payments.sandbox.serve import build_server

    url = f"sqlite:///{tmp_path / 'standalone.sqlite'}"
    standalone = build_server(["--port", "0", "--database-url", url,
                               "--set", "sandbox.worker=false"])
    try:
        base_url = serve(standalone.server)
        client = razorpay.Client(auth=(SANDBOX_KEY_ID, SANDBOX_KEY_SECRET), base_url=base_url)
        plan = client.plan.create({"period": "monthly", "interval": 1,
                                   "item": {"name": "Premium", "amount": 9900,
                                            "currency": "INR"}})
        sub = client.subscription.create({"plan_id": plan["id"], "total_count": 12})
        with pytest.raises(razorpay.errors.BadRequestError):
            client.subscription.pause(sub["id"], {"pause_at": "now"})  # not active yet
        requests.post(f"{base_url}/subscriptions/{sub['id']}/checkout", json={},
                      timeout=10).raise_for_status()
        active = client.subscription.fetch(sub["id"])
        paused = client.subscription.pause(sub["id"], {"pause_at": "now"})
        assert (paused["status"], paused["charge_at"]) == ("paused", None)
        assert paused["current_end"] == active["current_end"]
        with pytest.raises(razorpay.errors.BadRequestError):
            client.subscription.pause(sub["id"], {"pause_at": "now"})
        with pytest.raises(razorpay.errors.BadRequestError):
            client.subscription.resume(sub["id"], {"resume_at": "tomorrow"})
        moved = requests.post(f"{base_url}/clock", json={"advance": "P40D"},
                              timeout=10).json()
        assert moved["charged"] == 0  # paused: the boundary passed with no charge
        resumed = client.subscription.resume(sub["id"], {"resume_at": "now"})
        assert resumed["status"] == "active" and resumed["paid_count"] == 1
        assert resumed["charge_at"] > moved["now"]
        with pytest.raises(razorpay.errors.BadRequestError):
            client.subscription.resume(sub["id"], {"resume_at": "now"})
        requests.post(f"{base_url}/clock", json={"advance": "P1M"}, timeout=10)
        charged = client.subscription.fetch(sub["id"])
        assert charged["paid_count"] == 2
        assert charged["current_start"] == resumed["charge_at"]
        events = set(_outbox_events(emulator_service(standalone.app)))
        assert {"subscription.paused", "subscription.resumed"} <= events
    finally:
        emulator_service(standalone.app).close()


def _outbox_events(service):
    import sqlalchemy as sa

    from banter_payments.sandbox.models import SandboxWebhook

    with service.reader() as session, session.begin():
        return list(session.scalars(sa.select(SandboxWebhook.event)))


def test_update_changes_the_plan_from_the_next_charge(live):
    client = razorpay.Client(auth=(SANDBOX_KEY_ID, SANDBOX_KEY_SECRET),
                             base_url=f"{live}{SANDBOX}")
    item = {"name": "Premium", "amount": 9900, "currency": "INR"}
    monthly = client.plan.create({"period": "monthly", "interval": 1, "item": item})
    dearer = client.plan.create({"period": "monthly", "interval": 1,
                                 "item": {**item, "amount": 12900}})
    sub = client.subscription.create({"plan_id": monthly["id"], "total_count": 12})
    requests.post(f"{live}{SANDBOX}/subscriptions/{sub['id']}/checkout", json={},
                  timeout=10).raise_for_status()
    for bad in ({"plan_id": "plan_nope"}, {"schedule_change_at": "cycle_end",
                                           "plan_id": dearer["id"]},
                {"customer_notify": 1}, {"quantity": 2}, {"remaining_count": 0}):
        with pytest.raises(razorpay.errors.BadRequestError):
            client.subscription.edit(sub["id"], bad)
    assert client.subscription.fetch(sub["id"])["plan_id"] == monthly["id"]
    updated = client.subscription.edit(sub["id"], {"plan_id": dearer["id"],
                                                   "remaining_count": 3,
                                                   "schedule_change_at": "now"})
    assert (updated["plan_id"], updated["remaining_count"], updated["total_count"]) == (
        dearer["id"], 3, 4)
    requests.post(f"{live}{SANDBOX}/clock", json={"advance": "P1M"}, timeout=10)
    invoices = client.invoice.all({"subscription_id": sub["id"]})["items"]
    assert sorted(i["amount_paid"] for i in invoices) == [9900, 12900]
    client.subscription.cancel(sub["id"], {"cancel_at_cycle_end": 0})
    with pytest.raises(razorpay.errors.BadRequestError):
        client.subscription.edit(sub["id"], {"remaining_count": 2})
