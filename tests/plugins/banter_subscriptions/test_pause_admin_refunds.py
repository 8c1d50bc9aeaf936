"""Pause and resume, the admin list, refunds of one charge through the core's refunds,
the sandbox's fault plan on subscription calls, and the check job on the worker."""

import datetime as dt
import threading

import sqlalchemy as sa
from banter_subscriptions.jobs import check_subscriptions, run_check
from banter_subscriptions.models import Subscription, SubscriptionCharge

from banter_payments.jobs import Job
from banter_payments.refunds.models import Refund
from banter_payments.worker.jobs import JobContext, registered_jobs

from .conftest import API, SANDBOX

GRACE = dt.timedelta(days=1)


def iso(value):
    return dt.datetime.fromisoformat(value.replace("Z", "+00:00"))


def post(flow, user, path, status=200, body=None, *roles):
    return flow.testapp.post_json(f"{API}{path}", body or {}, headers=flow.auth(user, *roles),
                                  status=status).json


def test_pause_keeps_the_paid_cycle_and_resume_charges_from_the_next_boundary(flow):
    sub = flow.subscribed("pat")
    paid_until = iso(sub["premiumUntil"])
    cycle_end = iso(sub["currentEnd"])

    paused = post(flow, "pat", f"/subscriptions/{sub['id']}/pause")
    assert paused["status"] == "paused"
    assert paused["premiumUntil"] == sub["premiumUntil"]  # the paid cycle is honoured
    assert post(flow, "pat", f"/subscriptions/{sub['id']}/pause") == paused  # idempotent
    assert flow.remote(sub["razorpaySubscriptionId"])["status"] == "paused"
    flow.flush()  # subscription.paused, delivered: nothing more changes
    assert flow.show("pat", sub["id"]) == paused
    assert flow.entitlement("pat", now=cycle_end)["active"] is True

    # Paused: the cycle boundary passes with no charge, and premium lapses after grace.
    report = flow.advance("P1M")
    assert report["charged"] == 0 and report["failed"] == 0
    flow.advance("P2D")
    flow.flush()
    assert flow.show("pat", sub["id"])["paidCount"] == 1
    assert flow.entitlement("pat", now=flow.now())["active"] is False
    assert iso(flow.show("pat", sub["id"])["premiumUntil"]) == paid_until

    resumed = post(flow, "pat", f"/subscriptions/{sub['id']}/resume")
    assert resumed["status"] == "active"
    assert post(flow, "pat", f"/subscriptions/{sub['id']}/resume") == resumed
    remote = flow.remote(sub["razorpaySubscriptionId"])
    # The next charge is at the first cycle boundary after now (the paused month is not
    # billed): two months after the start.
    next_charge = dt.datetime.fromtimestamp(remote["charge_at"], dt.UTC)
    assert next_charge > flow.now() and next_charge - cycle_end > dt.timedelta(days=27)
    flow.flush()
    flow.advance("P1M")
    flow.flush()
    shown = flow.show("pat", sub["id"])
    assert shown["status"] == "active" and shown["paidCount"] == 2
    assert iso(shown["currentStart"]) == next_charge
    assert iso(shown["premiumUntil"]) == iso(shown["currentEnd"]) + GRACE
    assert flow.entitlement("pat", now=flow.now())["active"] is True


def test_pause_and_resume_refuse_what_razorpay_refuses(flow, dbsession):
    created = flow.subscribe("quin")
    # Not active yet: 409, and nothing asked of the gateway changes anything.
    answer = post(flow, "quin", f"/subscriptions/{created['id']}/pause", status=409)
    assert answer["error"]["code"] == "conflict"
    answer = post(flow, "quin", f"/subscriptions/{created['id']}/resume", status=409)
    assert answer["error"]["code"] == "conflict"
    assert flow.show("quin", created["id"])["status"] == "created"
    # Someone else's: 404.
    post(flow, "mallory", f"/subscriptions/{created['id']}/pause", status=404)
    post(flow, "mallory", f"/subscriptions/{created['id']}/resume", status=404)
    # Cancelled is final: no pause.
    sub = flow.subscribed("rex")
    flow.cancel("rex", sub["id"], at_cycle_end=False)
    post(flow, "rex", f"/subscriptions/{sub['id']}/pause", status=409)
    assert flow.show("rex", sub["id"])["status"] == "cancelled"


def test_the_state_machine_takes_paused_and_resumed_webhooks_in_order(flow):
    from banter_subscriptions.transitions import allowed

    assert allowed("active", "paused") and allowed("paused", "active")
    assert not allowed("cancelled", "paused") and not allowed("paused", "created")
    sub = flow.subscribed("sal")
    # Paused and resumed at the gateway only: the webhooks alone bring us along.
    from banter_payments.gateway.interfaces import IPaymentGateway

    with Job(flow.registry, host_url="http://localhost:80") as job:
        gateway = job.find_service(IPaymentGateway)
        gateway.pause_subscription(sub["razorpaySubscriptionId"])
    flow.flush()
    assert flow.show("sal", sub["id"])["status"] == "paused"
    flow.advance(60)
    with Job(flow.registry, host_url="http://localhost:80") as job:
        job.find_service(IPaymentGateway).resume_subscription(sub["razorpaySubscriptionId"])
    flow.flush()
    assert flow.show("sal", sub["id"])["status"] == "active"


def test_admin_lists_subscriptions_by_status_in_keyset_pages(flow):
    subs = [flow.subscribed(f"u{n}") for n in range(3)]
    flow.subscribe("u9")  # created, never paid
    flow.cancel("u0", subs[0]["id"], at_cycle_end=False)
    admin = flow.auth("root", "admin")
    everything = flow.testapp.get(f"{API}/admin/subscriptions", headers=admin).json
    assert len(everything["items"]) == 4 and everything["nextCursor"] is None
    ids = [item["id"] for item in everything["items"]]
    assert ids == sorted(ids, reverse=True)
    first = flow.testapp.get(f"{API}/admin/subscriptions?status=active&limit=1",
                             headers=admin).json
    assert [item["userId"] for item in first["items"]] in (["u1"], ["u2"])
    second = flow.testapp.get(
        f"{API}/admin/subscriptions?status=active&limit=1&cursor={first['nextCursor']}",
        headers=admin).json
    assert second["nextCursor"] is None
    assert {first["items"][0]["userId"], second["items"][0]["userId"]} == {"u1", "u2"}
    cancelled = flow.testapp.get(f"{API}/admin/subscriptions?status=cancelled",
                                 headers=admin).json
    assert [item["id"] for item in cancelled["items"]] == [subs[0]["id"]]
    for bad in ("status=lapsed", "limit=0", "cursor=nonsense", "other=1"):
        answer = flow.testapp.get(f"{API}/admin/subscriptions?{bad}", headers=admin,
                                  status=400).json
        assert answer["error"]["code"] == "validation_failed"
    flow.testapp.get(f"{API}/admin/subscriptions", headers=flow.auth("u1"), status=403)
    shown = flow.testapp.get(f"{API}/admin/subscriptions/{subs[1]['id']}", headers=admin).json
    assert shown["userId"] == "u1" and len(shown["charges"]) == 1
    flow.testapp.get(f"{API}/admin/subscriptions/sbs_nothing", headers=admin, status=404)


def refund(flow, sub_id, charge_id, status=201, **body):
    return flow.testapp.post_json(
        f"{API}/admin/subscriptions/{sub_id}/charges/{charge_id}/refunds",
        {"reason": "asked by the customer", **body}, headers=flow.auth("root", "admin"),
        status=status).json


def charges_of(flow, sub_id):
    return flow.testapp.get(f"{API}/admin/subscriptions/{sub_id}",
                            headers=flow.auth("root", "admin")).json["charges"]


def test_a_full_refund_of_the_current_charge_ends_premium(flow, dbsession):
    sub = flow.subscribed("val")
    flow.flush()
    [charge] = charges_of(flow, sub["id"])
    # A partial refund gives money back and keeps premium.
    partial = refund(flow, sub["id"], charge["id"], amount=1000)
    assert partial["amount"] == 1000 and partial["orderId"] == charges_of(
        flow, sub["id"])[0]["orderId"]
    flow.flush()
    assert flow.entitlement("val")["active"] is True
    # The rest: the cycle it paid for is taken back.
    rest = refund(flow, sub["id"], charge["id"])
    assert rest["amount"] == 9900 - 1000
    flow.flush()
    statuses = set(dbsession.scalars(sa.select(Refund.status)))
    dbsession.rollback()
    assert statuses == {"processed"}
    assert flow.entitlement("val")["active"] is False
    wallet = flow.testapp.get(f"{API}/wallet", headers=flow.auth("val")).json
    assert wallet["entitlements"]["premium"]["active"] is False
    [after] = charges_of(flow, sub["id"])
    assert after["refundedAt"] is not None
    assert iso(flow.show("val", sub["id"])["premiumUntil"]) <= dt.datetime.now(dt.UTC)
    # Nothing is left to refund; unknown charges and subscriptions are 404.
    assert refund(flow, sub["id"], charge["id"], status=409)["error"]["code"] == "conflict"
    refund(flow, sub["id"], "sch_nothing", status=404)
    refund(flow, "sbs_nothing", charge["id"], status=404)
    flow.testapp.post_json(
        f"{API}/admin/subscriptions/{sub['id']}/charges/{charge['id']}/refunds",
        {"reason": "x"}, headers=flow.auth("val"), status=403)
    # The refunded order is the charge's: one order, its payment the charge's payment.
    from banter_payments.orders.models import Order

    orders = dbsession.scalars(sa.select(Order)).all()
    assert [(o.amount, o.refunded_amount, o.refund_status) for o in orders] == [
        (9900, 9900, "full")]
    dbsession.rollback()


def test_a_full_refund_of_an_old_cycle_keeps_the_current_one(flow):
    sub = flow.subscribed("wes")
    flow.advance("P1M")
    flow.flush()
    shown = flow.show("wes", sub["id"])
    assert shown["paidCount"] == 2
    first, second = charges_of(flow, sub["id"])
    refund(flow, sub["id"], first["id"])
    flow.flush()
    assert flow.show("wes", sub["id"])["premiumUntil"] == shown["premiumUntil"]
    assert flow.entitlement("wes", now=flow.now())["active"] is True
    refund(flow, sub["id"], second["id"])
    flow.flush()
    assert flow.entitlement("wes", now=flow.now())["active"] is False


def set_faults(flow, plan):
    return flow.testapp.post_json(f"{SANDBOX}/faults", plan).json


def test_gateway_faults_during_create_verify_cancel_change_nothing(flow, dbsession):
    for status in (502, 503):
        set_faults(flow, {"endpoints": {"subscriptions.create": {"error_rate": 1,
                                                                   "statuses": [status]}},
                          "only_endpoints": True})
        answer = flow.subscribe("yan", status=502)
        assert answer["error"]["code"] == "gateway_error"
    assert dbsession.scalar(sa.select(sa.func.count()).select_from(Subscription)) == 0
    dbsession.rollback()
    flow.testapp.delete(f"{SANDBOX}/faults")

    sub = flow.subscribe("yan")
    paid = flow.checkout(sub["razorpaySubscriptionId"])
    set_faults(flow, {"endpoints": {"subscriptions.get": {"error_rate": 1,
                                                            "statuses": [503]}},
                      "only_endpoints": True})
    answer = flow.verify("yan", paid, status=502)
    assert answer["error"]["code"] == "gateway_error"
    assert flow.show("yan", sub["id"])["status"] == "created"
    assert dbsession.scalar(sa.select(sa.func.count()).select_from(SubscriptionCharge)) == 0
    dbsession.rollback()
    flow.testapp.delete(f"{SANDBOX}/faults")
    active = flow.verify("yan", paid)
    assert active["status"] == "active"

    fault = {"error_rate": 1, "statuses": [502]}
    set_faults(flow, {"endpoints": {"subscriptions.cancel": fault}, "only_endpoints": True})
    for at_cycle_end in (True, False):
        answer = flow.cancel("yan", sub["id"], at_cycle_end=at_cycle_end, status=502)
        assert answer["error"]["code"] == "gateway_error"
    set_faults(flow, {"endpoints": {"subscriptions.pause": fault}, "only_endpoints": True})
    post(flow, "yan", f"/subscriptions/{sub['id']}/pause", 502)
    flow.testapp.delete(f"{SANDBOX}/faults")
    assert flow.show("yan", sub["id"]) == active
    assert flow.remote(sub["razorpaySubscriptionId"])["status"] == "active"
    assert flow.cancel("yan", sub["id"], at_cycle_end=False)["status"] == "cancelled"


def test_the_check_job_runs_in_the_worker_and_claims_each_subscription_once(flow,
                                                                         registry):
    job = registered_jobs(registry)["subscriptions.check"]
    assert job.run is run_check and job.interval == 300
    subs = [flow.subscribed(f"w{n}") for n in range(6)]
    for sub in subs:
        flow.outcomes(sub["razorpaySubscriptionId"], outcome="failure")
    flow.advance("P1M")  # every charge fails; no webhook is delivered
    now = flow.now()
    reports = []

    def one_worker():
        with Job(registry, host_url="http://localhost:80") as job:
            reports.append(check_subscriptions(job, now=now))

    threads = [threading.Thread(target=one_worker) for _ in range(3)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert sum(report.checked for report in reports) == len(subs)
    assert all(report.errors == [] for report in reports)
    for n, sub in enumerate(subs):
        assert flow.show(f"w{n}", sub["id"])["status"] == "pending"
    # Claimed: not asked about again before subscriptions.recheck_seconds.
    with Job(registry, host_url="http://localhost:80") as job:
        assert check_subscriptions(job, now=now).checked == 0
    # The worker's own entry point runs a pass (on the real clock, nothing is due yet).
    assert run_check(JobContext(registry=registry, worker="w1",
                                stop=threading.Event())) == 0


def test_the_check_job_asks_about_a_subscription_left_created(flow, registry):
    sub = flow.subscribe("zoe")
    flow.checkout(sub["razorpaySubscriptionId"])  # its webhooks are never delivered
    assert flow.show("zoe", sub["id"])["status"] == "created"
    with Job(registry, host_url="http://localhost:80") as job:
        report = check_subscriptions(job, now=flow.now())
    assert (report.checked, report.changed) == (1, 1)
    shown = flow.show("zoe", sub["id"])
    assert shown["status"] == "active" and shown["paidCount"] == 1
    assert iso(shown["premiumUntil"]) == iso(shown["currentEnd"]) + GRACE


def test_verify_takes_camel_case_and_request_entitlements_says_the_same(flow, registry):
    from pyramid.request import Request
    from pyramid.scripting import prepare

    sub = flow.subscribe("ada")
    paid = flow.checkout(sub["razorpaySubscriptionId"])
    camel = {"razorpaySubscriptionId": paid["razorpay_subscription_id"],
             "razorpayPaymentId": paid["razorpay_payment_id"],
             "razorpaySignature": paid["razorpay_signature"]}
    mixed = dict(camel, razorpay_payment_id="pay_other")
    answer = flow.verify("ada", mixed, status=400)
    assert list(answer["error"]["details"]) == ["razorpay_payment_id"]
    verified = flow.verify("ada", camel)
    assert verified["status"] == "active"

    request = Request.blank("/", headers=flow.auth("ada"))
    with prepare(request=request, registry=registry) as env, env["request"].tm:
        found = env["request"].entitlements
        assert found == {"premium": {"active": True, "until": verified["premiumUntil"],
                                     "source": "subscription",
                                     "plan": "premium.monthly"}}
        assert env["request"].premium == found["premium"]
    anonymous = Request.blank("/")
    with prepare(request=anonymous, registry=registry) as env, env["request"].tm:
        assert env["request"].entitlements["premium"]["active"] is False
