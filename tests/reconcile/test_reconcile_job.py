"""The reconcile job asks the gateway about stale open orders and applies what it says."""

from __future__ import annotations

import collections
import datetime as dt
import threading

import pytest
import sqlalchemy as sa

from banter_payments.clock import utcnow
from banter_payments.jobs import Job
from banter_payments.reconcile.interfaces import IReconcileService
from banter_payments.reconcile.models import ReconcileCheck

HOUR = dt.timedelta(hours=1)


def aged(kit, dbsession, age: dt.timedelta, **kwargs):
    return kit.make_order(dbsession, created_at=utcnow() - age, **kwargs)


def check_row(kit, dbsession, order_id):
    return kit._read(dbsession, lambda s: s.get(ReconcileCheck, order_id))


def test_a_lost_capture_is_found_and_fulfilled_once(kit, dbsession, gateway, reconcile):
    order = aged(kit, dbsession, HOUR)
    gateway.add(kit.payment_entity(order.razorpay_order_id, status="failed"))
    captured = gateway.add(kit.payment_entity(order.razorpay_order_id, status="captured",
                                              created_at=1_700_000_500))

    report = reconcile()

    assert report.to_json() == {"checked": 1, "changed": 1, "paid": [order.id],
                                "attempted": [], "expired": [], "anomalies": [],
                                "refundsResumed": [], "errors": {}}
    stored = kit.reload(dbsession, order)
    assert (stored.status, stored.is_confirmed) == ("paid", True)
    assert {p.razorpay_payment_id: p.status for p in kit.payment_rows(dbsession, order.id)} \
        == {captured["id"]: "captured",
            next(p for p in gateway.payments if p != captured["id"]): "failed"}
    assert kit.balance(dbsession, "alice") == 600
    assert gateway.calls == [("fetch_order_payments", order.razorpay_order_id)]
    check = check_row(kit, dbsession, order.id)
    assert (check.claimed_until, check.checks, check.last_result) == (None, 1, "paid")


def test_repeated_runs_change_nothing_more(kit, dbsession, gateway, reconcile):
    paid = aged(kit, dbsession, HOUR)
    gateway.add(kit.payment_entity(paid.razorpay_order_id, status="captured"))
    pending = aged(kit, dbsession, HOUR)
    gateway.add(kit.payment_entity(pending.razorpay_order_id, status="authorized"))
    first = reconcile()

    second, third = reconcile(), reconcile()

    assert (first.paid, first.attempted) == ([paid.id], [pending.id])
    for report in (second, third):
        assert report.to_json() == {"checked": 1, "changed": 0, "paid": [], "attempted": [],
                                    "expired": [], "anomalies": [], "refundsResumed": [],
                                    "errors": {}}
    assert kit.postings(dbsession, f"order:{paid.id}") == 1
    assert kit.reload(dbsession, pending).status == "attempted"


def test_young_orders_are_left_to_webhooks_and_verify(kit, dbsession, gateway, reconcile):
    kit.make_order(dbsession)
    assert reconcile().checked == 0
    assert gateway.calls == []


class TestImmediately:
    @pytest.fixture
    def settings(self, settings):
        return dict(settings, **{"orders.reconcile_after_seconds": "0"})

    def test_the_age_is_a_setting(self, kit, dbsession, gateway, reconcile):
        order = kit.make_order(dbsession)
        gateway.add(kit.payment_entity(order.razorpay_order_id))
        assert reconcile().paid == [order.id]


class TestExpiry:
    def test_an_order_unpaid_past_its_life_is_expired_after_asking(self, kit, dbsession,
                                                                  gateway, reconcile):
        empty = aged(kit, dbsession, 25 * HOUR)
        failed = aged(kit, dbsession, 25 * HOUR, status="attempted")
        gateway.add(kit.payment_entity(failed.razorpay_order_id, status="failed"))

        report = reconcile()

        assert sorted(report.expired) == sorted([empty.id, failed.id])
        for order in (empty, failed):
            stored = kit.reload(dbsession, order)
            assert stored.status == "expired" and stored.expired_at is not None
        assert sorted(gateway.calls) == sorted([
            ("fetch_order_payments", empty.razorpay_order_id),
            ("fetch_order_payments", failed.razorpay_order_id)])
        assert reconcile().checked == 0  # expired orders are no longer open

    def test_money_on_the_way_keeps_an_old_order_open(self, kit, dbsession, gateway,
                                                      reconcile):
        order = aged(kit, dbsession, 25 * HOUR)
        gateway.add(kit.payment_entity(order.razorpay_order_id, status="authorized"))
        assert reconcile().expired == []
        assert kit.reload(dbsession, order).status == "attempted"

    def test_a_captured_payment_pays_even_a_very_old_order(self, kit, dbsession, gateway,
                                                           reconcile):
        order = aged(kit, dbsession, 25 * HOUR)
        gateway.add(kit.payment_entity(order.razorpay_order_id, status="captured"))
        assert reconcile().paid == [order.id]
        assert kit.reload(dbsession, order).status == "paid"

    def test_the_order_is_not_expired_when_the_gateway_cannot_be_asked(
            self, kit, dbsession, gateway, reconcile):
        order = aged(kit, dbsession, 25 * HOUR)
        gateway.failing.add("fetch_order_payments")

        report = reconcile()

        assert report.expired == []
        assert report.errors == {order.id: "Razorpay could not be reached to "
                                           "fetch_order_payments."}
        assert kit.reload(dbsession, order).status == "created"
        check = check_row(kit, dbsession, order.id)
        assert check.claimed_until is None
        assert check.last_result.startswith("error: Razorpay could not be reached")


def test_one_bad_order_does_not_stop_the_others(kit, dbsession, gateway, reconcile):
    good = aged(kit, dbsession, HOUR)
    gateway.add(kit.payment_entity(good.razorpay_order_id))
    odd = aged(kit, dbsession, HOUR)
    gateway.add(kit.payment_entity(odd.razorpay_order_id, amount=100))

    report = reconcile()

    assert report.paid == [good.id]
    assert report.anomalies == [odd.id]
    stored = kit.reload(dbsession, odd)
    assert stored.status == "created"
    assert "payment is 100, order is 44900" in stored.anomaly
    assert kit.payment_rows(dbsession, odd.id) == []


def test_a_live_lease_keeps_other_workers_away(kit, dbsession, gateway, reconcile):
    order = aged(kit, dbsession, HOUR)
    gateway.add(kit.payment_entity(order.razorpay_order_id))
    dbsession.add(ReconcileCheck(order_id=order.id, claimed_until=utcnow() + HOUR,
                                 claimed_by="other:1", checks=0))
    dbsession.commit()

    assert reconcile().checked == 0
    dbsession.execute(sa.update(ReconcileCheck).values(claimed_until=utcnow() - HOUR))
    dbsession.commit()
    assert reconcile().paid == [order.id]  # a dead worker's lease runs out


def test_batches_continue_until_nothing_is_left(kit, dbsession, gateway, reconcile):
    orders = [aged(kit, dbsession, HOUR) for _ in range(5)]
    for order in orders:
        gateway.add(kit.payment_entity(order.razorpay_order_id))
    report = reconcile(batch_size=2)
    assert sorted(report.paid) == sorted(o.id for o in orders)
    assert reconcile(batch_size=2, max_batches=1).checked == 0


class TestManualCapture:
    @pytest.fixture
    def settings(self, settings):
        return dict(settings, **{"razorpay.capture": "manual"})

    def test_an_authorization_found_by_reconcile_is_captured(self, kit, dbsession, gateway,
                                                            reconcile):
        order = aged(kit, dbsession, HOUR)
        entity = gateway.add(kit.payment_entity(order.razorpay_order_id, status="authorized"))
        assert reconcile().paid == [order.id]
        assert ("capture_payment", entity["id"]) in gateway.calls


    def test_the_capture_call_holds_no_lock_on_the_order(self, kit, dbsession, gateway,
                                                          reconcile, touch_order):
        """A failed attempt, then an authorized one: the failed one must not be written
        (locking the order) before the capture call; another writer can touch the order
        while the gateway is being asked."""
        order = aged(kit, dbsession, HOUR)
        gateway.add(kit.payment_entity(order.razorpay_order_id, status="failed",
                                       created_at=1_700_000_000))
        authorized = gateway.add(kit.payment_entity(order.razorpay_order_id,
                                                    status="authorized",
                                                    created_at=1_700_000_100))
        capture, touched = gateway.capture_payment, []

        def capture_while_someone_writes(payment_id, amount, currency):
            touch_order(order.id)
            touched.append(payment_id)
            return capture(payment_id, amount, currency)

        gateway.capture_payment = capture_while_someone_writes
        assert reconcile().paid == [order.id]
        assert touched == [authorized["id"]]


class TestAdminRoute:
    URL = "/api/payments/admin/reconcile"

    def test_admins_run_the_job_and_see_what_changed(self, kit, dbsession, gateway, testapp,
                                                     auth):
        order = aged(kit, dbsession, HOUR)
        gateway.add(kit.payment_entity(order.razorpay_order_id))

        report = testapp.post_json(self.URL, {}, headers=auth("ops", "admin")).json

        assert report == {"checked": 1, "changed": 1, "paid": [order.id], "attempted": [],
                          "expired": [], "anomalies": [], "refundsResumed": [], "errors": {}}
        assert testapp.post(self.URL, headers=auth("ops", "admin")).json["changed"] == 0

    def test_a_limit_bounds_one_call(self, kit, dbsession, gateway, testapp, auth):
        for _ in range(3):
            gateway.add(kit.payment_entity(aged(kit, dbsession, HOUR).razorpay_order_id))
        assert testapp.post_json(self.URL, {"limit": 2},
                                 headers=auth("ops", "admin")).json["checked"] == 2
        assert testapp.post_json(self.URL, {"limit": 2},
                                 headers=auth("ops", "admin")).json["checked"] == 1

    @pytest.mark.parametrize("body", [{"limit": 0}, {"limit": "5"}, {"other": 1}])
    def test_bad_bodies_are_refused(self, testapp, auth, body):
        response = testapp.post_json(self.URL, body, headers=auth("ops", "admin"), status=400)
        assert response.json["error"]["code"] == "validation_failed"

    def test_only_admins(self, testapp, auth):
        testapp.post(self.URL, status=401)
        testapp.post(self.URL, headers=auth("alice"), status=403)


@pytest.mark.server_database
@pytest.mark.slow
def test_concurrent_workers_share_the_work_without_overlap(kit, dbsession, gateway, registry):
    orders = [aged(kit, dbsession, HOUR) for _ in range(30)]
    for order in orders:
        gateway.add(kit.payment_entity(order.razorpay_order_id))
    gateway.delay = 0.02
    reports, barrier = [], threading.Barrier(3)

    def worker(name):
        barrier.wait()
        with Job(registry) as job:
            reports.append(job.find_service(IReconcileService).reconcile_orders(
                batch_size=4, worker=name))

    threads = [threading.Thread(target=worker, args=(f"w{n}",)) for n in range(3)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(60)

    fetched = collections.Counter(key for name, key in gateway.calls
                                  if name == "fetch_order_payments")
    assert fetched == {order.razorpay_order_id: 1 for order in orders}
    assert sum(r.checked for r in reports) == 30
    assert sorted(sum((r.paid for r in reports), [])) == sorted(o.id for o in orders)
    assert sum(1 for r in reports if r.checked) >= 2  # the work really was shared
    for order in orders:
        assert kit.postings(dbsession, f"order:{order.id}") == 1
