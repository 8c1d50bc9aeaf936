"""Webhooks: which events, where to, signed how, and the delivery knobs and retries."""

from __future__ import annotations

import datetime as dt
import hashlib
import hmac
import json
import re
import threading
import time

import razorpay
import webtest
from sqlalchemy import delete, update

from banter_payments.clock import utcnow
from banter_payments.sandbox import worker as worker_module
from banter_payments.sandbox.emulator import emulator_service
from banter_payments.sandbox.ids import account_id
from banter_payments.sandbox.models import SandboxWebhook
from banter_payments.sandbox.webhooks import deliver_batch, deliver_due
from banter_payments.sandbox.worker import flush_webhooks, pending_webhooks, worker_for
from banter_payments.settings import SANDBOX_KEY_ID, SANDBOX_WEBHOOK_SECRET
from tests.common.waiting import wait_for


def events(rows) -> list[str]:
    return [row.event for row in rows]


def later(seconds: float) -> dt.datetime:
    return utcnow() + dt.timedelta(seconds=seconds)


# Which events, with what inside


def test_a_captured_checkout_raises_authorized_captured_and_order_paid(emulator, shop, outbox):
    order = shop.order(44900)
    payment_id = shop.pay(order["id"])["razorpay_payment_id"]
    rows = outbox(emulator)
    assert events(rows) == ["payment.authorized", "payment.captured", "order.paid"]
    bodies = [json.loads(row.body) for row in rows]
    assert [b["contains"] for b in bodies] == [["payment"], ["payment"], ["payment", "order"]]
    assert bodies[0]["payload"]["payment"]["entity"]["status"] == "authorized"
    assert bodies[1]["payload"]["payment"]["entity"]["status"] == "captured"
    paid = bodies[2]["payload"]
    assert (paid["payment"]["entity"]["id"], paid["order"]["entity"]["id"]) == (
        payment_id,
        order["id"],
    )
    assert (paid["order"]["entity"]["status"], paid["order"]["entity"]["amount_paid"]) == (
        "paid",
        44900,
    )
    assert len({row.event_id for row in rows}) == 3
    assert all(row.status == "pending" and row.attempts == 0 for row in rows)


def test_the_envelope_is_razorpays(emulator, shop, outbox):
    shop.pay(shop.order()["id"], outcome="failure")
    (row,) = outbox(emulator)
    body = json.loads(row.body)
    assert list(body) == ["entity", "account_id", "event", "contains", "payload", "created_at"]
    assert (body["entity"], body["account_id"], body["event"], body["contains"]) == (
        "event",
        account_id(SANDBOX_KEY_ID),
        "payment.failed",
        ["payment"],
    )
    assert list(body["payload"]) == ["payment"]
    assert list(body["payload"]["payment"]) == ["entity"]
    assert body["payload"]["payment"]["entity"]["error_reason"] == "payment_failed"
    assert isinstance(body["created_at"], int)
    assert re.fullmatch(r"evt_[0-9A-Za-z]{14}", row.event_id)
    assert re.fullmatch(r"acc_[0-9A-Za-z]{14}", body["account_id"])


def test_a_manual_capture_raises_captured_and_order_paid(emulator, shop, emu, outbox):
    order = shop.order(50000, payment_capture=0)
    payment_id = shop.pay(order["id"])["razorpay_payment_id"]
    assert events(outbox(emulator)) == ["payment.authorized"]
    emu.post_json(f"/v1/payments/{payment_id}/capture", {"amount": 50000, "currency": "INR"})
    assert events(outbox(emulator)) == ["payment.authorized", "payment.captured", "order.paid"]


def test_refunds_raise_created_then_processed_with_the_payment(emulator, shop, outbox):
    payment = shop.captured(10000)
    refund = shop.refund(payment["id"], {"amount": 1000})
    rows = outbox(emulator)[3:]
    assert events(rows) == ["refund.created", "refund.processed"]
    created, processed = (json.loads(row.body) for row in rows)
    assert created["contains"] == processed["contains"] == ["refund", "payment"]
    assert created["payload"]["refund"]["entity"]["id"] == refund["id"]
    assert created["payload"]["refund"]["entity"]["status"] == "pending"
    assert processed["payload"]["refund"]["entity"]["status"] == "processed"
    assert processed["payload"]["payment"]["entity"]["amount_refunded"] == 1000


def test_a_late_authorization_raises_payment_authorized(emulator, shop, emu, outbox):
    order = shop.order()
    payment_id = shop.pay(order["id"], outcome="failure")["error"]["metadata"]["payment_id"]
    emu.post(f"/payments/{payment_id}/late_authorize")
    rows = outbox(emulator)
    assert events(rows) == ["payment.failed", "payment.authorized"]
    assert json.loads(rows[1].body)["payload"]["payment"]["entity"]["status"] == "authorized"


def test_an_idempotent_replay_raises_nothing_new(emulator, shop, outbox):
    payment = shop.captured(10000)
    shop.refund(payment["id"], {"amount": 100}, key="replay-key-0001")
    count = len(outbox(emulator))
    shop.refund(payment["id"], {"amount": 100}, key="replay-key-0001")
    assert len(outbox(emulator)) == count


# Where they go


def test_webhooks_go_back_to_the_host_that_served_the_checkout(emulator, outbox):
    testapp = webtest.TestApp(emulator, extra_environ={"HTTP_HOST": "shop.test:8080"})
    testapp.set_authorization(
        ("Basic", ("rzp_test_sandbox0000001", "sandbox-key-secret-0123456789"))
    )
    order = testapp.post_json("/v1/orders", {"amount": 100, "currency": "INR"}).json
    testapp.post_json(f"/checkout/{order['id']}/pay", {}, extra_environ={"HTTP_HOST": "app.test"})
    assert {row.target_url for row in outbox(emulator)} == {
        "http://app.test/api/payments/webhooks/razorpay"
    }


def test_api_calls_send_their_webhooks_to_their_own_host(emulator, shop, outbox):
    payment = shop.captured(10000)
    shop.testapp.post_json(
        f"/v1/payments/{payment['id']}/refund", {}, extra_environ={"HTTP_HOST": "api.test:9000"}
    )
    assert [row.target_url for row in outbox(emulator)[-2:]] == [
        "http://api.test:9000/api/payments/webhooks/razorpay"
    ] * 2


def test_the_webhook_path_and_url_settings_decide_the_target(make_app, shop_for, outbox):
    by_path = make_app({"sandbox.webhook_path": "/hooks/rzp"})
    shop_for(by_path).captured()
    assert {row.target_url for row in outbox(by_path)} == {"http://shop.test:8080/hooks/rzp"}

    fixed = make_app({"sandbox.webhook_url": "https://hooks.example/rzp"})
    before = len(outbox(fixed))
    shop_for(fixed).captured()
    assert {row.target_url for row in outbox(fixed)[before:]} == {"https://hooks.example/rzp"}


# Signatures and delivery


def test_deliveries_are_signed_over_the_raw_bytes(make_app, shop_for, receiver):
    endpoint, url = receiver
    app = make_app({"sandbox.webhook_url": url})
    shop_for(app).captured()
    assert flush_webhooks(app) == 3
    assert [call["path"] for call in endpoint.calls] == ["/hooks/razorpay"] * 3
    for call in endpoint.calls:
        headers, body = call["headers"], call["body"]
        expected = hmac.new(SANDBOX_WEBHOOK_SECRET.encode(), body, hashlib.sha256).hexdigest()
        assert headers["X-Razorpay-Signature"] == expected
        assert headers["Content-Type"] == "application/json"
        assert headers["X-Razorpay-Event-Id"].startswith("evt_")
        client = razorpay.Client(auth=("k", "s"))
        assert client.utility.verify_webhook_signature(
            body.decode(), headers["X-Razorpay-Signature"], SANDBOX_WEBHOOK_SECRET
        )
    assert [json.loads(c["body"])["event"] for c in endpoint.calls] == [
        "payment.authorized",
        "payment.captured",
        "order.paid",
    ]


def test_the_first_of_several_webhook_secrets_signs(make_app, shop_for, outbox):
    app = make_app({"razorpay.webhook_secrets": ["new-secret-0123456789", "old-secret-9876"]})
    shop_for(app).pay(shop_for(app).order()["id"], outcome="failure")
    (row,) = outbox(app)
    assert row.signature == hmac.new(b"new-secret-0123456789", row.body, hashlib.sha256).hexdigest()


def test_duplicates_send_n_copies_with_one_id_and_the_same_bytes(make_app, shop_for, receiver):
    endpoint, url = receiver
    app = make_app({"sandbox.webhook_url": url, "sandbox.webhook_duplicates": "3"})
    shop = shop_for(app)
    shop.pay(shop.order()["id"], outcome="failure")
    assert flush_webhooks(app) == 3
    assert len(endpoint.calls) == 3
    assert len({c["headers"]["X-Razorpay-Event-Id"] for c in endpoint.calls}) == 1
    assert len({c["body"] for c in endpoint.calls}) == 1
    assert len({c["headers"]["X-Razorpay-Signature"] for c in endpoint.calls}) == 1


def _drop_pattern(app, shop_for, outbox) -> list[bool]:
    shop = shop_for(app)
    order = shop.order()
    for _ in range(20):
        shop.pay(order["id"], outcome="failure")
    by_event: dict[str, set[str]] = {}
    for row in outbox(app):
        by_event.setdefault(row.event_id, set()).add(row.status)
    # Every copy of an event shares its fate.
    assert all(len(statuses) == 1 for statuses in by_event.values())
    return [statuses == {"dropped"} for statuses in by_event.values()]


def test_the_drop_rate_drops_whole_events_repeatably_with_a_seed(make_app, shop_for, outbox):
    knobs = {"sandbox.webhook_drop_rate": "0.5", "sandbox.webhook_duplicates": "2"}
    first_app = make_app(knobs)
    first = _drop_pattern(first_app, shop_for, outbox)
    assert len(first) == 20
    assert 0 < sum(first) < 20
    assert len(outbox(first_app)) == 40
    with emulator_service(first_app).writer() as session, session.begin():
        session.execute(delete(SandboxWebhook))
    assert _drop_pattern(make_app(knobs), shop_for, outbox) == first
    assert _drop_pattern(make_app({**knobs, "sandbox.random_seed": "8"}), shop_for, outbox) != first


def test_dropped_events_are_never_delivered(make_app, shop_for, receiver, outbox):
    endpoint, url = receiver
    app = make_app({"sandbox.webhook_url": url, "sandbox.webhook_drop_rate": "0.5"})
    shop = shop_for(app)
    order = shop.order()
    for _ in range(10):
        shop.pay(order["id"], outcome="failure")
    kept = {row.event_id for row in outbox(app) if row.status == "pending"}
    assert 0 < len(kept) < 10
    assert flush_webhooks(app) == len(kept)
    assert {c["headers"]["X-Razorpay-Event-Id"] for c in endpoint.calls} == kept
    assert {row.status for row in outbox(app) if row.event_id not in kept} == {"dropped"}


def test_shuffle_reorders_events_raised_together(make_app, shop_for, receiver, outbox):
    endpoint, url = receiver
    app = make_app({"sandbox.webhook_url": url, "sandbox.webhook_shuffle": "true"})
    shop = shop_for(app)
    order = shop.order()
    started = time.monotonic()
    for _ in range(8):
        shop.pay(order["id"], outcome="failure")
    raising = time.monotonic() - started
    rows = outbox(app)
    written = [row.event_id for row in rows]
    scheduled = [row.event_id for row in sorted(rows, key=lambda r: (r.deliver_at, r.id))]
    assert scheduled != written
    # Each event is held at most the shuffle window (1 s) past the moment it was raised.
    spread = max(r.deliver_at for r in rows) - min(r.deliver_at for r in rows)
    assert spread <= dt.timedelta(seconds=1 + raising)
    flush_webhooks(app)
    assert [c["headers"]["X-Razorpay-Event-Id"] for c in endpoint.calls] == scheduled


def test_without_shuffle_events_arrive_in_the_order_they_were_raised(
    make_app, shop_for, receiver, outbox
):
    endpoint, url = receiver
    app = make_app({"sandbox.webhook_url": url})
    shop = shop_for(app)
    order = shop.order()
    for _ in range(5):
        shop.pay(order["id"], outcome="failure")
    written = [row.event_id for row in outbox(app)]
    flush_webhooks(app)
    assert [c["headers"]["X-Razorpay-Event-Id"] for c in endpoint.calls] == written


def test_the_delay_holds_deliveries_back(make_app, shop_for, receiver):
    endpoint, url = receiver
    app = make_app({"sandbox.webhook_url": url, "sandbox.webhook_delay": "30"})
    shop = shop_for(app)
    shop.pay(shop.order()["id"], outcome="failure")
    service = emulator_service(app)
    assert deliver_due(service) == 0
    assert endpoint.calls == []
    assert pending_webhooks(app, now=later(29)) == 0
    assert deliver_due(service, now=later(31)) == 1
    assert len(endpoint.calls) == 1


def test_a_failing_endpoint_is_retried_with_exponential_backoff(
    make_app, shop_for, receiver, outbox
):
    endpoint, url = receiver
    endpoint.statuses = [500, 502]
    app = make_app({"sandbox.webhook_url": url, "sandbox.webhook_retry_base": "1"})
    shop = shop_for(app)
    shop.pay(shop.order()["id"], outcome="failure")
    service = emulator_service(app)
    t0 = utcnow()

    assert deliver_due(service, now=t0) == 0
    (row,) = outbox(app)
    assert (row.status, row.attempts, row.last_status_code) == ("pending", 1, 500)
    assert row.deliver_at == t0 + dt.timedelta(seconds=1)
    assert row.last_error.startswith("HTTP 500")

    assert deliver_due(service, now=t0 + dt.timedelta(seconds=0.5)) == 0
    assert len(endpoint.calls) == 1

    t1 = t0 + dt.timedelta(seconds=1)
    assert deliver_due(service, now=t1) == 0
    (row,) = outbox(app)
    assert (row.status, row.attempts, row.last_status_code) == ("pending", 2, 502)
    assert row.deliver_at == t1 + dt.timedelta(seconds=2)

    t2 = t1 + dt.timedelta(seconds=2)
    assert deliver_due(service, now=t2) == 1
    (row,) = outbox(app)
    assert (row.status, row.attempts, row.last_status_code, row.last_error) == (
        "delivered",
        3,
        200,
        None,
    )
    assert row.delivered_at == t2
    assert len(endpoint.calls) == 3
    assert len({c["body"] for c in endpoint.calls}) == 1


def test_an_endpoint_that_never_succeeds_ends_failed(make_app, shop_for, receiver, outbox):
    endpoint, url = receiver
    endpoint.statuses = [503] * 10
    app = make_app(
        {
            "sandbox.webhook_url": url,
            "sandbox.webhook_max_attempts": "3",
            "sandbox.webhook_retry_base": "0",
        }
    )
    shop = shop_for(app)
    shop.pay(shop.order()["id"], outcome="failure")
    service = emulator_service(app)
    for _ in range(5):
        deliver_due(service)
    (row,) = outbox(app)
    assert (row.status, row.attempts, row.last_status_code) == ("failed", 3, 503)
    assert len(endpoint.calls) == 3


def test_a_slow_endpoint_times_out_and_is_retried(make_app, shop_for, receiver, outbox):
    endpoint, url = receiver
    endpoint.delay = 1.0
    app = make_app({"sandbox.webhook_url": url, "sandbox.webhook_timeout": "0.2"})
    shop = shop_for(app)
    shop.pay(shop.order()["id"], outcome="failure")
    assert deliver_due(emulator_service(app)) == 0
    (row,) = outbox(app)
    assert (row.status, row.attempts, row.last_status_code) == ("pending", 1, None)
    assert row.last_error.startswith("ReadTimeout")


def test_an_unreachable_endpoint_is_retried(make_app, shop_for, outbox):
    app = make_app({"sandbox.webhook_url": "http://127.0.0.1:9/hooks"})
    shop = shop_for(app)
    shop.pay(shop.order()["id"], outcome="failure")
    assert deliver_due(emulator_service(app)) == 0
    (row,) = outbox(app)
    assert (row.status, row.attempts) == ("pending", 1)
    assert row.last_error.startswith("ConnectionError")


def test_a_claim_whose_lease_ran_out_is_delivered_again(make_app, shop_for, receiver, outbox):
    endpoint, url = receiver
    app = make_app({"sandbox.webhook_url": url})
    shop = shop_for(app)
    shop.pay(shop.order()["id"], outcome="failure")
    service = emulator_service(app)
    with service.writer() as session, session.begin():
        session.execute(
            update(SandboxWebhook).values(
                status="delivering", attempts=1, lease_until=utcnow() - dt.timedelta(seconds=1)
            )
        )
    assert deliver_due(service) == 1
    (row,) = outbox(app)
    assert (row.status, row.attempts) == ("delivered", 2)


def test_a_live_claim_is_left_alone(make_app, shop_for, receiver):
    endpoint, url = receiver
    app = make_app({"sandbox.webhook_url": url})
    shop = shop_for(app)
    shop.pay(shop.order()["id"], outcome="failure")
    service = emulator_service(app)
    with service.writer() as session, session.begin():
        session.execute(update(SandboxWebhook).values(status="delivering", lease_until=later(60)))
    assert deliver_due(service) == 0
    assert endpoint.calls == []


def test_nothing_is_delivered_from_the_request_thread(make_app, shop_for, receiver, outbox):
    endpoint, url = receiver
    app = make_app({"sandbox.webhook_url": url})
    shop_for(app).captured()
    assert endpoint.calls == []
    assert pending_webhooks(app) == 3


def test_flush_webhooks_can_deliver_in_process_to_a_wsgi_app(emulator, shop, receiver):
    endpoint, _ = receiver
    shop.captured()
    # The rows name shop.test:8080, which does not resolve: the app serves them anyway.
    assert flush_webhooks(emulator, app=endpoint) == 3
    assert [c["path"] for c in endpoint.calls] == ["/api/payments/webhooks/razorpay"] * 3
    assert pending_webhooks(emulator) == 0


def test_flush_webhooks_accepts_settings(make_app, shop_for, receiver, emulator_settings):
    endpoint, url = receiver
    app = make_app({"sandbox.webhook_url": url})
    shop_for(app).captured()
    assert flush_webhooks({**emulator_settings, "sandbox.webhook_url": url}) == 3
    assert len(endpoint.calls) == 3


# The background worker


def test_the_worker_delivers_soon_after_the_event(make_app, shop_for, receiver):
    endpoint, url = receiver
    app = make_app({"sandbox.webhook_url": url, "sandbox.worker": "true"})
    shop_for(app).captured()
    wait_for(lambda: len(endpoint.calls) == 3, timeout=5)
    wait_for(lambda: pending_webhooks(app) == 0, timeout=5)
    service = emulator_service(app)
    assert worker_for(service) is worker_for(service)
    assert worker_for(service).is_alive()


def test_the_worker_settles_pending_refunds(make_app, shop_for, receiver):
    endpoint, url = receiver
    app = make_app(
        {
            "sandbox.webhook_url": url,
            "sandbox.worker": "true",
            "sandbox.refund_status": "pending",
            "sandbox.refund_delay": "0",
        }
    )
    shop = shop_for(app)
    refund = shop.refund(shop.captured()["id"], {"amount": 100})
    assert refund["status"] == "pending"
    wait_for(
        lambda: shop.testapp.get(f"/v1/refunds/{refund['id']}").json["status"] == "processed",
        timeout=5,
    )
    wait_for(lambda: len(endpoint.calls) == 5, timeout=5)
    assert [json.loads(c["body"])["event"] for c in endpoint.calls][-2:] == [
        "refund.created",
        "refund.processed",
    ]


def test_the_worker_survives_an_error(make_app, shop_for, receiver, monkeypatch):
    endpoint, url = receiver
    real = worker_module.deliver_batch
    failures = []

    def flaky(*args, **kwargs):
        if not failures:
            failures.append(1)
            raise RuntimeError("database went away")
        return real(*args, **kwargs)

    monkeypatch.setattr(worker_module, "deliver_batch", flaky)
    app = make_app({"sandbox.webhook_url": url, "sandbox.worker": "true"})
    shop_for(app).captured()
    wait_for(lambda: len(endpoint.calls) == 3, timeout=5)
    assert failures == [1]
    assert worker_for(emulator_service(app)).is_alive()


def test_concurrent_deliverers_never_send_a_row_twice(make_app, shop_for, receiver, outbox):
    endpoint, url = receiver
    endpoint.delay = 0.02
    app = make_app({"sandbox.webhook_url": url})
    shop = shop_for(app)
    order = shop.order()
    for _ in range(24):
        shop.pay(order["id"], outcome="failure")
    service = emulator_service(app)
    start = threading.Barrier(4)
    delivered = []

    def deliverer() -> None:
        start.wait()
        while True:
            report = deliver_batch(service, limit=3)
            delivered.append(report.delivered)
            if report.claimed == 0:
                return

    threads = [threading.Thread(target=deliverer) for _ in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(30)
    ids = [c["headers"]["X-Razorpay-Event-Id"] for c in endpoint.calls]
    assert len(ids) == len(set(ids)) == 24
    assert sum(delivered) == 24
    assert {row.status for row in outbox(app)} == {"delivered"}
