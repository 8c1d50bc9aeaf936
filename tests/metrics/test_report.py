"""``GET /admin/metrics``: every number equals a recount from the raw rows."""

from __future__ import annotations

import datetime as dt
import math
from collections import Counter, defaultdict

import pytest
import sqlalchemy as sa
from hypothesis import HealthCheck, given
from hypothesis import settings as hypothesis_settings
from hypothesis import strategies as st

from banter_payments.metrics.models import WebhookTiming
from banter_payments.metrics.services import Window, report
from banter_payments.orders.models import Order
from banter_payments.payments.models import Payment
from banter_payments.refunds.models import Refund

PREFIX = "/api/payments"
START = dt.datetime(2026, 11, 30, tzinfo=dt.UTC)
END = START + dt.timedelta(days=1)
# Rows fall up to 3 hours either side of the window, to prove the edges.
moments = st.integers(min_value=-3 * 3600, max_value=27 * 3600).map(
    lambda s: START + dt.timedelta(seconds=s))

payment_rows = st.fixed_dictionaries({
    "status": st.sampled_from(["created", "authorized", "captured", "refunded", "failed"]),
    "method": st.sampled_from(["upi", "card", None]),
    "error": st.sampled_from([("BAD_REQUEST_ERROR", "card declined"),
                              ("GATEWAY_ERROR", "bank down"), (None, None)]),
    "at": moments,
})
order_rows = st.fixed_dictionaries({
    "sku": st.sampled_from(["coins.popular", None]),
    "currency": st.sampled_from(["INR", "USD"]),
    "amount": st.integers(min_value=1, max_value=10_000_000),
    "paid": st.booleans(),
    "created": moments,
    "paid_after": st.integers(min_value=0, max_value=4 * 3600),
    "payments": st.lists(payment_rows, max_size=3),
    "refunds": st.lists(st.tuples(st.sampled_from(["pending", "processed", "failed"]),
                                  moments), max_size=2),
})
timing_rows = st.lists(st.tuples(moments, st.integers(min_value=0, max_value=600_000)),
                       max_size=30)


def _insert(session, orders, timings) -> None:
    n = 0
    for spec in orders:
        n += 1
        order = Order(created_by="alice", sku=spec["sku"],
                      source_app=None if spec["sku"] else "shop",
                      external_ref=None if spec["sku"] else f"ref-{n}",
                      amount=spec["amount"], currency=spec["currency"],
                      status="paid" if spec["paid"] else "created",
                      created_at=spec["created"],
                      paid_at=(spec["created"] + dt.timedelta(seconds=spec["paid_after"])
                               if spec["paid"] else None))
        session.add(order)
        session.flush()
        for i, p in enumerate(spec["payments"]):
            failed = p["status"] == "failed"
            payment = Payment(order_id=order.id, razorpay_payment_id=f"pay_{n:06d}{i}",
                              status=p["status"], method=p["method"], amount=spec["amount"],
                              currency=spec["currency"], created_at=p["at"],
                              error_code=p["error"][0] if failed else None,
                              error_description=p["error"][1] if failed else None)
            session.add(payment)
            session.flush()
            for j, (status, at) in enumerate(spec["refunds"] if i == 0 else []):
                session.add(Refund(order_id=order.id, payment_id=payment.id,
                                   razorpay_payment_id=payment.razorpay_payment_id,
                                   amount=max(spec["amount"] // 4, 1),
                                   currency=spec["currency"], status=status, created_at=at,
                                   gateway_idempotency_key=f"k-{n}-{j}"))
    for at, lag in timings:
        session.add(WebhookTiming(received_at=at, outcome="processed", lag_ms=lag,
                                  duration_ms=5))
    session.flush()


def _hour(at: dt.datetime) -> dt.datetime:
    return at.replace(minute=0, second=0, microsecond=0)


def _inside(at) -> bool:
    return at is not None and START <= at < END


def _rank(values: list[int], p: float):
    values = sorted(values)
    return values[max(math.ceil(p * len(values)), 1) - 1] if values else None


def recount(session) -> dict:
    """The report's figures, from the raw rows, in plain Python."""
    payments = [p for p in session.scalars(sa.select(Payment)) if _inside(p.created_at)]
    attempts = [p for p in payments if p.status in ("captured", "refunded", "failed")]
    succeeded = sum(p.status != "failed" for p in attempts)
    paid = [o for o in session.scalars(sa.select(Order))
            if o.status == "paid" and _inside(o.paid_at)]
    revenue: dict = defaultdict(lambda: [0, 0])
    for o in paid:
        revenue[o.currency][0] += 1
        revenue[o.currency][1] += o.amount
    refunds: dict = defaultdict(lambda: [0, 0])
    for r in session.scalars(sa.select(Refund)):
        if _inside(r.created_at):
            refunds[(r.currency, r.status)][0] += 1
            refunds[(r.currency, r.status)][1] += r.amount
    reasons = Counter((p.error_code, p.error_description) for p in attempts
                      if p.status == "failed")
    kinds = Counter("catalog" if o.sku else "service" for o in session.scalars(sa.select(Order))
                    if _inside(o.created_at))
    lags = [t.lag_ms for t in session.scalars(sa.select(WebhookTiming))
            if _inside(t.received_at)]
    hourly = defaultdict(lambda: [0, 0])
    for p in attempts:
        hourly[_hour(p.created_at)][0 if p.status != "failed" else 1] += 1
    return {
        "attempts": len(attempts), "succeeded": succeeded,
        "rate": round(succeeded / len(attempts), 4) if attempts else None,
        "revenue": {c: (n, a, (2 * a + n) // (2 * n))
                    for c, (n, a) in revenue.items()},
        "refunds": {k: tuple(v) for k, v in refunds.items()},
        "reasons": dict(reasons),
        "kinds": {"catalog": kinds["catalog"], "service": kinds["service"]},
        "lag": (len(lags), _rank(lags, 0.5), _rank(lags, 0.95), _rank(lags, 0.99)),
        "hourly": {h: tuple(v) for h, v in hourly.items()},
    }


@pytest.fixture
def clean(engine):
    def wipe():
        with engine.begin() as conn:
            for table in ("metrics_webhook_timings", "refunds", "payments", "orders"):
                conn.exec_driver_sql(f"DELETE FROM {table}")
    return wipe


@hypothesis_settings(max_examples=25, deadline=None,
                     suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(orders=st.lists(order_rows, max_size=12), timings=timing_rows)
def test_the_report_equals_a_recount_of_the_rows(session_factory, clean, orders, timings):
    session = session_factory()
    try:
        _insert(session, orders, timings)
        session.commit()
        got = report(session, Window(START, END, "hour"))
        want = recount(session)
    finally:
        session.close()
        clean()
    totals = got["totals"]
    assert (totals["attempts"], totals["succeeded"], totals["successRate"]) == (
        want["attempts"], want["succeeded"], want["rate"])
    assert {r["currency"]: (r["orders"], r["amount"], r["averageOrderValue"])
            for r in totals["revenue"]} == want["revenue"]
    assert {(r["currency"], r["status"]): (r["count"], r["amount"])
            for r in totals["refunds"]} == want["refunds"]
    assert {(r["code"], r["reason"]): r["count"]
            for r in totals["failureReasons"]} == want["reasons"]
    assert totals["ordersCreated"] == want["kinds"]
    lag = totals["webhookLag"]
    assert (lag["count"], lag["p50Ms"], lag["p95Ms"], lag["p99Ms"]) == want["lag"]
    assert len(got["series"]) == 24
    assert {point["start"]: (point["succeeded"], point["failed"]) for point in got["series"]
            if point["attempts"]} == want["hourly"]
    assert sum(sum(r["amount"] for r in point["revenue"]) for point in got["series"]) == sum(
        a for _, a, _ in want["revenue"].values())


def test_the_admin_route_answers_admins_only(testapp, auth):
    query = {"from": "2026-11-30T00:00:00Z", "to": "2026-12-01T00:00:00Z", "bucket": "hour"}
    answer = testapp.get(f"{PREFIX}/admin/metrics", query, headers=auth("ops", "admin")).json
    assert answer["from"] == "2026-11-30T00:00:00Z" and len(answer["series"]) == 24
    assert answer["totals"]["successRate"] is None
    testapp.get(f"{PREFIX}/admin/metrics", query, headers=auth("alice"), status=403)
    testapp.get(f"{PREFIX}/admin/metrics", query, status=401)


@pytest.mark.parametrize("query, field", [
    ({"from": "2026-12-01T00:00:00Z", "to": "2026-11-30T00:00:00Z"}, "to"),
    ({"from": "yesterday"}, "from"),
    ({"from": "2026-11-30T00:00:00"}, "from"),
    ({"bucket": "minute"}, "bucket"),
    ({"from": "2026-01-01T00:00:00Z", "to": "2026-12-01T00:00:00Z"}, "to"),
    ({"surprise": "1"}, "surprise"),
    # Only from, a year ago: the default "to" (now) makes it too long for hourly buckets.
    ({"from": "2025-01-01T00:00:00Z"}, "to"),
    ({"to": "2000-01-01T00:00:00+05:30", "from": "2000-01-01T00:00:00+05:30"}, "to"),
])
def test_a_bad_query_is_400(testapp, auth, query, field):
    answer = testapp.get(f"{PREFIX}/admin/metrics", query, headers=auth("ops", "admin"),
                         status=400).json
    assert answer["error"]["code"] == "validation_failed"
    assert field in str(answer["error"]["details"])
