"""A simulated year: subscribers on both plans, twelve months of charges with some
failing (recovering on retry or halting), every webhook three times, shuffled and 30%
dropped, and a check pass after each month. At the end, for every subscriber, what we
recorded is exactly what the gateway charged, and premium lasts exactly as long as
what was paid for (plus grace)."""

import datetime as dt
import random

import pytest
import sqlalchemy as sa
from banter_subscriptions.jobs import check_subscriptions
from banter_subscriptions.models import Subscription, SubscriptionCharge

from banter_payments.jobs import Job

GRACE = dt.timedelta(days=1)


@pytest.fixture
def settings(settings):
    settings.update({
        "sandbox.webhook_duplicates": "3",
        "sandbox.webhook_shuffle": "true",
        "sandbox.webhook_shuffle_window": "30",
        "sandbox.webhook_drop_rate": "0.3",
        "sandbox.random_seed": "11",
    })
    return settings


def test_a_year_of_charges_failures_and_lost_webhooks(flow, registry, dbsession):
    rng = random.Random(2026)
    users = [f"user{n}" for n in range(50)]
    subs = {}
    for n, user in enumerate(users):
        plan = "premium.yearly" if n % 3 == 0 else "premium.monthly"
        subs[user] = flow.subscribed(user, plan)
        if n == 1:  # recovers on the first retry
            queue = ["success", "failure", "success"]
        elif n == 2:  # runs out of retries in its third month
            queue = ["success", "failure", "failure", "failure", "failure"]
        else:
            queue = ["failure" if rng.random() < 0.1 else "success" for _ in range(30)]
        flow.outcomes(subs[user]["razorpaySubscriptionId"], next=queue)
    for _month in range(12):
        flow.advance("P1M")
        flow.flush()
        with Job(registry, host_url="http://localhost:80") as job:
            report = check_subscriptions(job, now=flow.now())
        assert report.errors == []

    outbox = flow.deliveries()
    assert outbox["dropped"] > 0 and set(outbox) == {"delivered", "dropped"}
    statuses = set()
    for user in users:
        rzp = subs[user]["razorpaySubscriptionId"]
        remote = flow.remote(rzp)
        shown = flow.show(user, subs[user]["id"])
        statuses.add(remote["status"])
        with Job(registry, host_url="http://localhost:80") as job:
            from banter_payments.gateway.interfaces import IPaymentGateway

            invoices = job.find_service(IPaymentGateway).fetch_subscription_invoices(rzp)
        paid = [i for i in invoices if i["status"] == "paid"]
        assert len(paid) == remote["paid_count"], user
        assert shown["paidCount"] == remote["paid_count"], user
        assert shown["status"] == remote["status"], user
        last_end = max(i["billing_end"] for i in paid)
        expected = dt.datetime.fromtimestamp(last_end, dt.UTC) + GRACE
        assert dt.datetime.fromisoformat(shown["premiumUntil"]) == expected, user
        charges = dbsession.scalars(
            sa.select(SubscriptionCharge).join(Subscription)
            .where(Subscription.id == subs[user]["id"])).all()
        assert sorted(c.razorpay_payment_id for c in charges) == sorted(
            i["payment_id"] for i in paid), user
        assert all(c.anomaly is None for c in charges)
    dbsession.rollback()
    assert "halted" in statuses and "active" in statuses
    assert flow.show("user2", subs["user2"]["id"])["status"] == "halted"
    assert flow.entitlement("user2", now=flow.now())["active"] is False
    assert flow.entitlement("user4", now=flow.now())["active"] is True
