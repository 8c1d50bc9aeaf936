"""Webhooks the app did not ask for, charges that do not match the plan, the check job
for what no webhook told us, and twenty copies of one charge at once."""

import datetime as dt
import json
import threading

import sqlalchemy as sa
from banter_subscriptions.jobs import check_subscriptions
from banter_subscriptions.models import Subscription, SubscriptionCharge

from banter_payments.jobs import Job
from banter_payments.sandbox.ids import account_id
from banter_payments.sandbox.webhooks import event_body, sign
from banter_payments.settings import SANDBOX_KEY_ID, SANDBOX_WEBHOOK_SECRET
from tests.common.inbox import drain, outcome

from .conftest import API


def post_event(testapp, name, payload, created_at, event_id, status=200):
    """Post a signed event and process the inbox; ``.outcome`` is how it ended."""
    body = event_body(name, payload, created_at, account=account_id(SANDBOX_KEY_ID))
    response = testapp.post(f"{API}/webhooks/razorpay", body, status=status, headers={
        "Content-Type": "application/json", "X-Razorpay-Event-Id": event_id,
        "X-Razorpay-Signature": sign(body, SANDBOX_WEBHOOK_SECRET)})
    if response.status_int == 200:
        drain(testapp.app)
        registry = testapp.app.registry
        writer, _reader = registry["banter_payments.session_factories"]
        with writer() as session:
            response.outcome = outcome(session, response.json["deliveryId"])
    return response


def charged_payload(razorpay_subscription_id, payment_id, amount, currency="INR",
                    paid_count=1):
    start = int(dt.datetime(2026, 12, 1, tzinfo=dt.UTC).timestamp())
    end = int(dt.datetime(2027, 1, 1, tzinfo=dt.UTC).timestamp())
    subscription = {"id": razorpay_subscription_id, "entity": "subscription",
                    "status": "active", "paid_count": paid_count, "current_start": start,
                    "current_end": end, "charge_at": end, "ended_at": None}
    payment = {"id": payment_id, "entity": "payment", "amount": amount,
               "currency": currency, "status": "captured", "invoice_id": None}
    return {"subscription": subscription, "payment": payment}  # event_body wraps them


def test_an_event_for_a_subscription_we_never_created_is_recorded_and_ignored(
        testapp, dbsession):
    payload = charged_payload("sub_nobodys", "pay_nobodys", 9900)
    answer = post_event(testapp, "subscription.charged", payload, 1_764_000_000,
                        "evt_unknown1")
    assert answer.outcome == "ignored"
    error = dbsession.scalar(sa.text("SELECT error FROM webhook_deliveries"))
    assert "never created" in error
    assert dbsession.scalar(sa.select(sa.func.count()).select_from(SubscriptionCharge)) == 0
    assert dbsession.scalar(sa.text(
        "SELECT count(*) FROM webhook_deliveries")) == 1


def test_a_charge_that_is_not_the_plans_price_grants_nothing(flow, testapp, dbsession):
    sub = flow.subscribe("lee")
    for payment_id, amount, currency in (("pay_cheap", 100, "INR"),
                                         ("pay_dollars", 9900, "USD")):
        payload = charged_payload(sub["razorpaySubscriptionId"], payment_id, amount,
                                  currency)
        answer = post_event(testapp, "subscription.charged", payload, 1_764_000_000,
                            f"evt_{payment_id}")
        assert answer.outcome == "processed"
    charges = dbsession.scalars(sa.select(SubscriptionCharge)
                                .order_by(SubscriptionCharge.razorpay_payment_id)).all()
    assert [(c.razorpay_payment_id, c.anomaly is not None) for c in charges] == [
        ("pay_cheap", True), ("pay_dollars", True)]
    dbsession.rollback()  # SQLite: let the job below write
    shown = flow.show("lee", sub["id"])
    assert shown["premiumUntil"] is None
    assert flow.entitlement("lee")["active"] is False


def test_the_same_charge_twenty_times_at_once_records_one(flow, app, registry, dbsession):
    from banter_payments.sandbox.emulator import emulator_service
    from tests.common.inbox import flush_webhooks

    sub = flow.subscribe("max")
    flow.checkout(sub["razorpaySubscriptionId"])
    engine = sa.create_engine(
        emulator_service(registry["banter_payments.sandbox.emulator"]).config.database_url)
    with engine.connect() as conn:
        rows = conn.execute(sa.text(
            "SELECT event_id, body, signature FROM sandbox_webhooks")).all()
    engine.dispose()
    charged = [row for row in rows if b'"subscription.charged"' in bytes(row.body)]
    assert len(charged) == 1
    paid = paid_of(rows)
    answers = []

    def deliver(row):
        answers.append(flow.testapp.post(
            f"{API}/webhooks/razorpay", bytes(row.body), status="*", headers={
                "Content-Type": "application/json", "X-Razorpay-Event-Id": row.event_id,
                "X-Razorpay-Signature": row.signature}).status_int)

    def verify():
        answers.append(flow.testapp.post_json(f"{API}/subscriptions/verify", paid,
                                              headers=flow.auth("max"),
                                              status="*").status_int)

    threads = [threading.Thread(target=deliver, args=(charged[0],)) for _ in range(20)]
    threads.append(threading.Thread(target=verify))
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert answers == [200] * 21
    flush_webhooks(app, app=app)
    assert dbsession.scalar(sa.select(sa.func.count()).select_from(SubscriptionCharge)) == 1
    assert flow.show("max", sub["id"])["paidCount"] == 1


def paid_of(rows):
    """Checkout's answer, rebuilt from the signed events (as the client would hold it)."""
    from banter_payments.sandbox.subscriptions import subscription_signature
    from banter_payments.settings import SANDBOX_KEY_SECRET

    for row in rows:
        event = json.loads(bytes(row.body))
        if event["event"] == "subscription.charged":
            sub_id = event["payload"]["subscription"]["entity"]["id"]
            pay_id = event["payload"]["payment"]["entity"]["id"]
            return {"razorpay_subscription_id": sub_id, "razorpay_payment_id": pay_id,
                    "razorpay_signature": subscription_signature(pay_id, sub_id,
                                                                 SANDBOX_KEY_SECRET)}
    raise AssertionError("no charge")


def test_the_check_job_finds_what_no_webhook_said(flow, registry, dbsession):
    sub = flow.subscribe("ned")
    flow.verify("ned", flow.checkout(sub["razorpaySubscriptionId"]))
    paid_until = flow.show("ned", sub["id"])["premiumUntil"]
    flow.outcomes(sub["razorpaySubscriptionId"], outcome="failure")
    flow.advance("P1M")  # webhooks are never delivered in this test
    with Job(registry, host_url="http://localhost:80") as job:
        report = check_subscriptions(job, now=flow.now())
    assert (report.checked, report.changed, report.lapsed) == (1, 1, [])
    assert flow.show("ned", sub["id"])["status"] == "pending"
    flow.advance("P5D")
    with Job(registry, host_url="http://localhost:80") as job:
        report = check_subscriptions(job, now=flow.now())
    assert (report.checked, report.changed, report.lapsed) == (1, 1, [sub["id"]])
    shown = flow.show("ned", sub["id"])
    assert shown["status"] == "halted" and shown["premiumUntil"] == paid_until
    with Job(registry, host_url="http://localhost:80") as job:
        report = check_subscriptions(job, now=flow.now())
    assert report.checked == 0  # halted: nothing more to ask
    assert dbsession.scalar(sa.select(Subscription.status)) == "halted"
