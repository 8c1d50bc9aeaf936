"""The facts subscriptions announce, once each, after commit, however often their
webhooks are delivered."""

from collections import Counter

import pytest
from banter_subscriptions.events import (
    SubscriptionActivated,
    SubscriptionCancelled,
    SubscriptionCharged,
    SubscriptionHalted,
    SubscriptionPaused,
    SubscriptionPaymentFailed,
    SubscriptionResumed,
)
from pyramid.config import Configurator

from banter_payments.events import Committed


@pytest.fixture
def settings(settings):
    settings["sandbox.webhook_duplicates"] = "3"
    return settings


@pytest.fixture
def announced(app):
    seen = Counter()
    config = Configurator(registry=app.registry)
    for event in (SubscriptionActivated, SubscriptionCharged, SubscriptionPaymentFailed,
                  SubscriptionHalted, SubscriptionCancelled, SubscriptionPaused,
                  SubscriptionResumed):
        config.add_subscriber(lambda committed: seen.update([type(committed.event).__name__]),
                              Committed, for_event=event)
    config.commit()
    return seen


def test_each_fact_once_after_commit(flow, announced):
    sub = flow.subscribe("olga")
    flow.verify("olga", flow.checkout(sub["razorpaySubscriptionId"]))
    flow.flush()
    assert announced == Counter(SubscriptionActivated=1, SubscriptionCharged=1)
    flow.advance("P1M")
    flow.flush()
    assert announced["SubscriptionCharged"] == 2
    flow.outcomes(sub["razorpaySubscriptionId"], outcome="failure")
    flow.advance("P1M")
    flow.flush()
    assert announced["SubscriptionPaymentFailed"] == 1
    flow.advance("P5D")  # the three daily retries fail too
    flow.flush()
    # Three pending retries and the halt, each with its failed payment.
    assert announced["SubscriptionPaymentFailed"] == 4
    assert announced["SubscriptionHalted"] == 1
    flow.cancel("olga", sub["id"], at_cycle_end=False)
    flow.flush()
    assert announced == Counter(SubscriptionActivated=1, SubscriptionCharged=2,
                                SubscriptionPaymentFailed=4, SubscriptionHalted=1,
                                SubscriptionCancelled=1)


def test_nothing_is_announced_for_a_refused_request(flow, announced):
    sub = flow.subscribe("pat")
    paid = flow.checkout(sub["razorpaySubscriptionId"])
    flow.verify("pat", dict(paid, razorpay_signature="f" * 64), status=400)
    assert announced == Counter()


def test_pause_and_resume_are_announced_once(flow, announced):
    sub = flow.subscribed("quentin")
    for action in ("pause", "resume"):
        flow.testapp.post_json(f"/api/payments/subscriptions/{sub['id']}/{action}", {},
                               headers=flow.auth("quentin"))
        flow.flush()
        flow.advance(60)
    assert (announced["SubscriptionPaused"], announced["SubscriptionResumed"]) == (1, 1)


class TestOutboxTopics:
    """Other services (and the notifications plugin) hear of subscriptions through the
    outbox: one message per fact, numbered in order per subscription."""

    @pytest.fixture
    def settings(self, settings, monkeypatch):
        monkeypatch.setenv("SUBSCRIBER_SECRET", "whsec_" + "s" * 32)
        settings["outbox.endpoints"] = (
            "billing http://127.0.0.1:9/hooks SUBSCRIBER_SECRET subscription.activated "
            "subscription.charged subscription.cancelled")
        return settings

    def test_each_fact_is_one_message_in_order(self, flow, dbsession):
        import sqlalchemy as sa

        from banter_payments.outbox.models import OutboxMessage

        sub = flow.subscribe("uma")
        flow.verify("uma", flow.checkout(sub["razorpaySubscriptionId"]))
        flow.flush()
        flow.advance("P1M")
        flow.flush()
        flow.cancel("uma", sub["id"], at_cycle_end=False)
        flow.flush()
        rows = dbsession.scalars(sa.select(OutboxMessage).order_by(OutboxMessage.sequence)).all()
        assert [(row.topic, row.sequence) for row in rows] == [
            ("subscription.activated", 1), ("subscription.charged", 2),
            ("subscription.charged", 3), ("subscription.cancelled", 4)]
        assert {row.aggregate_id for row in rows} == {sub["id"]}
        charged = rows[1].payload["data"]
        assert charged["userId"] == "uma" and charged["amount"] == 9900
        assert charged["razorpayPaymentId"].startswith("pay_")
        assert charged["currentEnd"] > charged["currentStart"]
