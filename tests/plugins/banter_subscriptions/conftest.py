import datetime as dt

import pytest

API = "/api/payments"
SANDBOX = f"{API}/_sandbox/razorpay"


@pytest.fixture
def settings(settings):
    settings["banter_payments.plugins"] = "banter_coins\nbanter_subscriptions"
    return settings


class Flow:
    """A user's way through subscribing, as a client and Razorpay would walk it."""

    def __init__(self, testapp, auth, flush_webhooks, registry):
        self.testapp, self.auth, self.flush, self.registry = (testapp, auth, flush_webhooks,
                                                              registry)

    def subscribe(self, user, plan="premium.monthly", status=201):
        return self.testapp.post_json(f"{API}/subscriptions", {"plan": plan},
                                      headers=self.auth(user), status=status).json

    def checkout(self, razorpay_subscription_id, outcome="success"):
        return self.testapp.post_json(
            f"{SANDBOX}/subscriptions/{razorpay_subscription_id}/checkout",
            {"outcome": outcome, "method": "card"}).json

    def verify(self, user, paid, status=200):
        return self.testapp.post_json(f"{API}/subscriptions/verify", paid,
                                      headers=self.auth(user), status=status).json

    def subscribed(self, user, plan="premium.monthly"):
        sub = self.subscribe(user, plan)
        paid = self.checkout(sub["razorpaySubscriptionId"])
        return self.verify(user, paid)

    def outcomes(self, razorpay_subscription_id, **body):
        return self.testapp.post_json(
            f"{SANDBOX}/subscriptions/{razorpay_subscription_id}/outcomes", body).json

    def advance(self, advance="P1M"):
        return self.testapp.post_json(f"{SANDBOX}/clock", {"advance": advance}).json

    def now(self):
        seconds = self.testapp.get(f"{SANDBOX}/clock").json["now"]
        return dt.datetime.fromtimestamp(seconds, dt.UTC)

    def show(self, user, sub_id, status=200):
        return self.testapp.get(f"{API}/subscriptions/{sub_id}", headers=self.auth(user),
                                status=status).json

    def cancel(self, user, sub_id, at_cycle_end=True, status=200):
        return self.testapp.post_json(f"{API}/subscriptions/{sub_id}/cancel",
                                      {"atCycleEnd": at_cycle_end},
                                      headers=self.auth(user), status=status).json

    def entitlement(self, user, now=None):
        from banter_subscriptions.interfaces import ISubscriptionService

        from banter_payments.jobs import Job

        with Job(self.registry) as job, job.tm:
            return job.find_service(ISubscriptionService).entitlement(user, "premium", now)

    def deliveries(self):
        """The sandbox's outbox: {status: count} over every copy of every event."""
        import sqlalchemy as sa

        from banter_payments.sandbox.emulator import emulator_service

        service = emulator_service(self.registry["banter_payments.sandbox.emulator"])
        with service.reader() as session, session.begin():
            rows = session.execute(sa.text(
                "SELECT status, count(*) FROM sandbox_webhooks GROUP BY status")).all()
        return dict(rows)

    def remote(self, razorpay_subscription_id):
        from banter_payments.gateway.interfaces import IPaymentGateway
        from banter_payments.jobs import Job

        with Job(self.registry, host_url="http://localhost:80") as job:
            return job.find_service(IPaymentGateway).fetch_subscription(
                razorpay_subscription_id)


@pytest.fixture
def flow(testapp, auth, flush_webhooks, registry):
    return Flow(testapp, auth, flush_webhooks, registry)
