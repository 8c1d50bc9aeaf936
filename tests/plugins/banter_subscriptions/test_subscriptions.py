"""Subscribing, renewing, lapsing and cancelling, through the real SDK (in-process)
against the sandbox's Subscriptions, webhooks included."""

import datetime as dt
from itertools import pairwise

import pytest
import sqlalchemy as sa
from banter_subscriptions.models import Subscription, SubscriptionCharge

from .conftest import API


def iso(value):
    return dt.datetime.fromisoformat(value.replace("Z", "+00:00"))


def from_unix(value):
    return dt.datetime.fromtimestamp(value, dt.UTC)


GRACE = dt.timedelta(days=1)


def test_plans_are_in_the_catalog_and_not_sold_as_orders(testapp, auth):
    items = {item["sku"]: item for item in testapp.get(f"{API}/catalog").json["items"]}
    monthly = items["premium.monthly"]
    assert (monthly["kind"], monthly["amount"], monthly["period"], monthly["interval"]) == (
        "subscription", 9900, "monthly", 1)
    assert items["premium.yearly"]["amount"] == 99900
    response = testapp.post_json(f"{API}/orders", {"sku": "premium.monthly"},
                                 headers=auth("alice"), status=400)
    assert list(response.json["error"]["details"]) == ["sku"]


def test_subscribe_checkout_verify_and_premium(flow, dbsession):
    sub = flow.subscribe("alice")
    assert sub["status"] == "created" and sub["premiumUntil"] is None
    checkout = sub["checkout"]
    assert checkout["subscription_id"] == sub["razorpaySubscriptionId"]
    assert checkout["recurring"] == 1 and checkout["key"].startswith("rzp_")
    assert "amount" not in checkout
    assert flow.entitlement("alice")["active"] is False

    paid = flow.checkout(sub["razorpaySubscriptionId"])
    verified = flow.verify("alice", paid)
    remote = flow.remote(sub["razorpaySubscriptionId"])
    assert verified["status"] == "active" and verified["paidCount"] == 1
    assert iso(verified["premiumUntil"]) == from_unix(remote["current_end"]) + GRACE
    assert flow.entitlement("alice")["active"] is True
    wallet = flow.testapp.get(f"{API}/wallet", headers=flow.auth("alice")).json
    shown = wallet["entitlements"]["premium"]
    assert {key: shown[key] for key in ("active", "until", "source", "plan")} == {
        "active": True, "until": verified["premiumUntil"], "source": "subscription",
        "plan": "premium.monthly"}
    premium = flow.testapp.get(f"{API}/subscriptions/premium",
                               headers=flow.auth("alice")).json
    assert premium == {"isPremium": True, "premiumUntil": verified["premiumUntil"],
                       "plan": "premium.monthly"}
    nobody = flow.testapp.get(f"{API}/subscriptions/premium", headers=flow.auth("zed")).json
    assert nobody == {"isPremium": False, "premiumUntil": None, "plan": None}

    # The webhooks of the same checkout change nothing more: one charge.
    assert flow.flush() >= 3
    assert dbsession.scalar(sa.select(sa.func.count()).select_from(SubscriptionCharge)) == 1
    again = flow.show("alice", sub["id"])
    assert again["premiumUntil"] == verified["premiumUntil"]


def test_webhooks_alone_make_premium_and_charged_cycles_renew_it(flow, dbsession):
    sub = flow.subscribe("bob")
    flow.checkout(sub["razorpaySubscriptionId"])  # the client never calls verify
    flow.flush()
    first = flow.show("bob", sub["id"])
    assert first["status"] == "active" and first["paidCount"] == 1
    for cycle in range(2, 5):
        flow.advance("P1M")
        flow.flush()
        shown = flow.show("bob", sub["id"])
        remote = flow.remote(sub["razorpaySubscriptionId"])
        assert shown["paidCount"] == remote["paid_count"] == cycle
        assert iso(shown["premiumUntil"]) == from_unix(remote["current_end"]) + GRACE
        assert flow.entitlement("bob", now=flow.now())["active"] is True
    # Every event (subscription.*, invoice.paid, payment.captured) was answered 2xx.
    assert list(flow.deliveries()) == ["delivered"]
    charges = dbsession.scalars(sa.select(SubscriptionCharge)
                                .order_by(SubscriptionCharge.cycle_start)).all()
    assert len(charges) == 4
    assert all(c.razorpay_invoice_id for c in charges)
    assert all(a.cycle_end == b.cycle_start for a, b in pairwise(charges))


@pytest.fixture
def chaotic(settings):
    """The sandbox delivering every webhook three times, shuffled."""
    settings.update({"sandbox.webhook_duplicates": "3", "sandbox.webhook_shuffle": "true",
                     "sandbox.webhook_shuffle_window": "5"})
    return settings


def test_duplicated_and_shuffled_webhooks_apply_once(chaotic, flow, dbsession):
    sub = flow.subscribe("carol")
    flow.checkout(sub["razorpaySubscriptionId"])
    flow.advance("P1M")
    flow.advance("P1M")
    flow.flush()
    shown = flow.show("carol", sub["id"])
    remote = flow.remote(sub["razorpaySubscriptionId"])
    assert shown["status"] == "active" and shown["paidCount"] == 3 == remote["paid_count"]
    assert dbsession.scalar(sa.select(sa.func.count()).select_from(SubscriptionCharge)) == 3
    assert iso(shown["premiumUntil"]) == from_unix(remote["current_end"]) + GRACE


def test_failed_charges_halt_and_premium_lapses_at_the_paid_end(flow):
    sub = flow.subscribe("dave")
    flow.verify("dave", flow.checkout(sub["razorpaySubscriptionId"]))
    paid_until = iso(flow.show("dave", sub["id"])["premiumUntil"])
    flow.outcomes(sub["razorpaySubscriptionId"], outcome="failure")
    flow.advance("P1M")  # the charge and its three daily retries would need 3 more days
    flow.flush()
    assert flow.show("dave", sub["id"])["status"] == "pending"
    flow.advance("P5D")
    flow.flush()
    shown = flow.show("dave", sub["id"])
    assert shown["status"] == "halted" and shown["paidCount"] == 1
    assert iso(shown["premiumUntil"]) == paid_until  # never earlier than what was paid
    assert flow.entitlement("dave", now=flow.now())["active"] is False


def test_a_retry_that_succeeds_keeps_premium_going(flow):
    sub = flow.subscribe("erin")
    flow.verify("erin", flow.checkout(sub["razorpaySubscriptionId"]))
    flow.outcomes(sub["razorpaySubscriptionId"], next=["failure"])
    flow.advance("P1M")
    flow.advance("P1D")
    flow.flush()
    shown = flow.show("erin", sub["id"])
    remote = flow.remote(sub["razorpaySubscriptionId"])
    assert shown["status"] == "active" and shown["paidCount"] == 2
    assert iso(shown["premiumUntil"]) == from_unix(remote["current_end"]) + GRACE


def test_cancel_at_cycle_end_keeps_premium_until_the_end(flow):
    sub = flow.subscribe("fay")
    flow.verify("fay", flow.checkout(sub["razorpaySubscriptionId"]))
    cycle_end = iso(flow.show("fay", sub["id"])["currentEnd"])
    cancelled = flow.cancel("fay", sub["id"], at_cycle_end=True)
    assert cancelled["status"] == "active" and cancelled["cancelAtCycleEnd"] is True
    assert iso(cancelled["premiumUntil"]) == cycle_end
    assert flow.cancel("fay", sub["id"], at_cycle_end=True) == cancelled  # idempotent
    assert flow.entitlement("fay", now=cycle_end - dt.timedelta(seconds=1))["active"]
    flow.advance("P1M")
    flow.flush()
    shown = flow.show("fay", sub["id"])
    assert shown["status"] == "cancelled" and shown["paidCount"] == 1
    assert iso(shown["premiumUntil"]) == cycle_end
    assert flow.entitlement("fay", now=flow.now())["active"] is False
    # Cancelled is final: a new subscription is allowed now.
    flow.subscribe("fay")


def test_cancel_now_ends_premium_now(flow):
    sub = flow.subscribe("gus")
    flow.verify("gus", flow.checkout(sub["razorpaySubscriptionId"]))
    cancelled = flow.cancel("gus", sub["id"], at_cycle_end=False)
    assert cancelled["status"] == "cancelled"
    assert iso(cancelled["premiumUntil"]) <= flow.now()
    assert flow.entitlement("gus")["active"] is False
    wallet = flow.testapp.get(f"{API}/wallet", headers=flow.auth("gus")).json
    assert wallet["entitlements"]["premium"]["active"] is False
    flow.flush()  # the cancelled webhook changes nothing more
    assert flow.show("gus", sub["id"]) == cancelled
    assert flow.cancel("gus", sub["id"], at_cycle_end=False) == cancelled


def test_one_live_subscription_per_family(flow):
    flow.subscribed("hal")
    response = flow.subscribe("hal", "premium.yearly", status=409)
    assert response["error"]["code"] == "conflict"


def test_bad_input(flow, dbsession):
    sub = flow.subscribe("ivy")
    paid = flow.checkout(sub["razorpaySubscriptionId"])
    # Another user's subscription: 404, as if it did not exist.
    assert flow.verify("mallory", paid, status=404)["error"]["code"] == "not_found"
    flow.show("mallory", sub["id"], status=404)
    flow.cancel("mallory", sub["id"], status=404)
    # A forged signature: 400, nothing moves.
    forged = dict(paid, razorpay_signature="0" * 64)
    assert flow.verify("ivy", forged, status=400)["error"]["code"] == "signature_invalid"
    assert flow.show("ivy", sub["id"])["status"] == "created"
    # Unknown plan: 400.
    response = flow.subscribe("ivy", "premium.weekly", status=400)
    assert list(response["error"]["details"]) == ["plan"]
    flow.testapp.post_json(f"{API}/subscriptions", {"plan": "premium.monthly", "x": 1},
                           headers=flow.auth("ivy"), status=400)
    assert dbsession.scalar(sa.select(sa.func.count()).select_from(Subscription)) == 1


def test_a_price_change_makes_a_new_gateway_plan(settings, flow, dbsession):
    from banter_subscriptions.models import GatewayPlan

    first = flow.subscribed("jay")
    from banter_subscriptions.directives import plans
    from banter_subscriptions.interfaces import ISubscriptionService

    from banter_payments.jobs import Job

    catalog = plans(flow.registry)
    old = catalog["premium.monthly"]
    catalog["premium.monthly"] = type(old)(**{**old.__dict__, "amount": 12900})
    try:
        second = flow.subscribe("kim")
    finally:
        catalog["premium.monthly"] = old
    rows = dbsession.scalars(sa.select(GatewayPlan).order_by(GatewayPlan.amount)).all()
    assert [row.amount for row in rows] == [9900, 12900]
    assert first["amount"] == 9900 and second["amount"] == 12900
    old_plan_id = rows[0].razorpay_plan_id
    dbsession.rollback()  # SQLite: let the job write
    with Job(flow.registry, host_url="http://localhost:80") as job, job.tm:
        service = job.find_service(ISubscriptionService)
        assert service.gateway_plan(old).razorpay_plan_id == old_plan_id
