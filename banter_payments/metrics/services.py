"""The figures, computed from the rows payments write: one set of queries for the admin
report (``report``), the Prometheus fact counters (``fact_counts``) and the alerts.

Definitions (docs/metrics.md has them for operators):

- a payment *attempt* is a payment that reached an outcome: ``captured`` or ``refunded``
  (succeeded) or ``failed``; an authorization still waiting for its capture is neither.
  Attempts are placed in time by the payment's ``created_at``;
- the success rate is succeeded / attempts (None when there were no attempts);
- revenue is the amount of orders that became ``paid``, by ``paid_at`` and currency; the
  average order value is that sum over that count, rounded half up, in minor units;
- refunds are counted and summed by currency and status, by their ``created_at``;
- failure reasons are the failed attempts grouped by Razorpay's error code and
  description;
- webhook lag is the receipt time minus the event's ``created_at``, in milliseconds, with
  nearest-rank percentiles (the value at rank ceil(p * n)).

Every range is half open, ``[start, end)``, and every query reads a range of an indexed
timestamp, so the cost of a day does not grow with the size of the year around it.
"""

from __future__ import annotations

import datetime as dt
import math
from collections import defaultdict
from dataclasses import dataclass
from typing import Any

import sqlalchemy as sa
from sqlalchemy.orm import Session

from ..db import computes_percentiles, time_bucket
from ..orders.models import Order
from ..payments.models import Payment
from ..refunds.models import Refund
from ..webhooks.models import WebhookDelivery
from .models import WebhookTiming

SUCCEEDED = ("captured", "refunded")
ATTEMPT_STATUSES = (*SUCCEEDED, "failed")
BUCKETS = {"hour": dt.timedelta(hours=1), "day": dt.timedelta(days=1)}
PERCENTILES = (("p50Ms", 0.50), ("p95Ms", 0.95), ("p99Ms", 0.99))
MAX_FAILURE_REASONS = 50


def success_rate(succeeded: int, attempts: int) -> float | None:
    return round(succeeded / attempts, 4) if attempts else None


def average(amount: int, count: int) -> int:
    """An integer mean in minor units, rounded half up (sums of integers, no floats)."""
    return (2 * amount + count) // (2 * count)


def nearest_rank(sorted_values: list[int], p: float) -> int | None:
    if not sorted_values:
        return None
    return sorted_values[max(math.ceil(p * len(sorted_values)), 1) - 1]


def floor_bucket(when: dt.datetime, bucket: str) -> dt.datetime:
    when = when.astimezone(dt.UTC).replace(minute=0, second=0, microsecond=0)
    return when.replace(hour=0) if bucket == "day" else when


def _bucket_of(session: Session, column, bucket: str):
    """A SQL expression naming the UTC hour or day ``column`` falls in."""
    return time_bucket(session, column, bucket)


def _as_bucket(value: Any) -> dt.datetime:
    if isinstance(value, str):
        value = dt.datetime.fromisoformat(value)
    return value.replace(tzinfo=dt.UTC) if value.tzinfo is None else value.astimezone(dt.UTC)


def _within(column, start: dt.datetime, end: dt.datetime):
    return sa.and_(column >= start, column < end)


@dataclass(frozen=True)
class Window:
    start: dt.datetime
    end: dt.datetime
    bucket: str = "hour"


def attempts_by_bucket(session: Session, window: Window) -> dict[dt.datetime, dict[str, int]]:
    bucket = _bucket_of(session, Payment.created_at, window.bucket).label("bucket")
    rows = session.execute(
        sa.select(bucket, Payment.status, sa.func.count())
        .where(_within(Payment.created_at, window.start, window.end),
               Payment.status.in_(ATTEMPT_STATUSES))
        .group_by(bucket, Payment.status)
    ).all()
    result: dict[dt.datetime, dict[str, int]] = defaultdict(lambda: {"succeeded": 0,
                                                                     "failed": 0})
    for when, status, count in rows:
        key = "failed" if status == "failed" else "succeeded"
        result[_as_bucket(when)][key] += count
    return result


def attempt_totals(session: Session, start: dt.datetime, end: dt.datetime) -> tuple[int, int]:
    """(succeeded, attempts) of payments created in ``[start, end)``."""
    succeeded, attempts = session.execute(
        # count(CASE ...), not count(*) FILTER (...), which MariaDB does not have.
        sa.select(sa.func.count(sa.case((Payment.status.in_(SUCCEEDED), 1))),
                  sa.func.count())
        .where(_within(Payment.created_at, start, end),
               Payment.status.in_(ATTEMPT_STATUSES))
    ).one()
    return succeeded or 0, attempts or 0


def revenue_by_bucket(session: Session, window: Window):
    bucket = _bucket_of(session, Order.paid_at, window.bucket).label("bucket")
    rows = session.execute(
        sa.select(bucket, Order.currency, sa.func.count(), sa.func.sum(Order.amount))
        .where(_within(Order.paid_at, window.start, window.end), Order.status == "paid")
        .group_by(bucket, Order.currency)
    ).all()
    result: dict[dt.datetime, dict[str, tuple[int, int]]] = defaultdict(dict)
    for when, currency, count, amount in rows:
        result[_as_bucket(when)][currency] = (count, int(amount))
    return result


def refunds_by_bucket(session: Session, window: Window):
    bucket = _bucket_of(session, Refund.created_at, window.bucket).label("bucket")
    rows = session.execute(
        sa.select(bucket, Refund.currency, Refund.status, sa.func.count(),
                  sa.func.sum(Refund.amount))
        .where(_within(Refund.created_at, window.start, window.end))
        .group_by(bucket, Refund.currency, Refund.status)
    ).all()
    result: dict[dt.datetime, dict[tuple[str, str], tuple[int, int]]] = defaultdict(dict)
    for when, currency, status, count, amount in rows:
        result[_as_bucket(when)][(currency, status)] = (count, int(amount))
    return result


def failure_reasons(session: Session, window: Window) -> list[dict[str, Any]]:
    count = sa.func.count().label("count")
    rows = session.execute(
        sa.select(Payment.error_code, Payment.error_description, count)
        .where(_within(Payment.created_at, window.start, window.end),
               Payment.status == "failed")
        .group_by(Payment.error_code, Payment.error_description)
        .order_by(count.desc(), Payment.error_code, Payment.error_description)
        .limit(MAX_FAILURE_REASONS)
    ).all()
    return [{"code": code, "reason": reason, "count": n} for code, reason, n in rows]


def orders_created(session: Session, window: Window) -> dict[str, int]:
    kind = sa.case((Order.sku.is_not(None), "catalog"), else_="service").label("kind")
    rows = session.execute(
        sa.select(kind, sa.func.count())
        .where(_within(Order.created_at, window.start, window.end))
        .group_by(kind)
    ).all()
    return {"catalog": 0, "service": 0} | {k: n for k, n in rows}


def lag_percentiles(session: Session, start: dt.datetime, end: dt.datetime) -> dict[str, Any]:
    """Webhook lag count and p50/p95/p99 (ms) of deliveries received in ``[start, end)``."""
    where = (_within(WebhookTiming.received_at, start, end), WebhookTiming.lag_ms.is_not(None))
    if computes_percentiles(session):
        columns = [sa.func.percentile_disc(p).within_group(WebhookTiming.lag_ms)
                   for _, p in PERCENTILES]
        count, *values = session.execute(
            sa.select(sa.func.count(), *columns).where(*where)).one()
        return {"count": count} | {name: (int(v) if v is not None else None)
                                   for (name, _), v in zip(PERCENTILES, values, strict=True)}
    lags = list(session.scalars(
        sa.select(WebhookTiming.lag_ms).where(*where).order_by(WebhookTiming.lag_ms)))
    return {"count": len(lags)} | {name: nearest_rank(lags, p) for name, p in PERCENTILES}


def lag_by_bucket(session: Session, window: Window) -> dict[dt.datetime, dict[str, Any]]:
    bucket = _bucket_of(session, WebhookTiming.received_at, window.bucket).label("bucket")
    where = (_within(WebhookTiming.received_at, window.start, window.end),
             WebhookTiming.lag_ms.is_not(None))
    if computes_percentiles(session):
        columns = [sa.func.percentile_disc(p).within_group(WebhookTiming.lag_ms)
                   for _, p in PERCENTILES]
        rows = session.execute(sa.select(bucket, sa.func.count(), *columns)
                               .where(*where).group_by(bucket)).all()
        return {_as_bucket(when): {"count": count} | {
                    name: int(v) for (name, _), v in zip(PERCENTILES, values, strict=True)}
                for when, count, *values in rows}
    lags: dict[dt.datetime, list[int]] = defaultdict(list)
    for when, lag in session.execute(sa.select(bucket, WebhookTiming.lag_ms).where(*where)
                                     .order_by(WebhookTiming.lag_ms)):
        lags[_as_bucket(when)].append(lag)
    return {when: {"count": len(values)} | {name: nearest_rank(values, p)
                                            for name, p in PERCENTILES}
            for when, values in lags.items()}


def _money_rows(by_currency: dict[str, tuple[int, int]]) -> list[dict[str, Any]]:
    return [{"currency": currency, "orders": count, "amount": amount,
             "averageOrderValue": average(amount, count)}
            for currency, (count, amount) in sorted(by_currency.items())]


def _refund_rows(by_key: dict[tuple[str, str], tuple[int, int]]) -> list[dict[str, Any]]:
    return [{"currency": currency, "status": status, "count": count, "amount": amount}
            for (currency, status), (count, amount) in sorted(by_key.items())]


def _attempt_fields(succeeded: int, failed: int) -> dict[str, Any]:
    attempts = succeeded + failed
    return {"attempts": attempts, "succeeded": succeeded, "failed": failed,
            "successRate": success_rate(succeeded, attempts)}


EMPTY_LAG = {"count": 0} | {name: None for name, _ in PERCENTILES}


def report(session: Session, window: Window) -> dict[str, Any]:
    """The admin report: totals over the window and one entry per bucket in it."""
    attempts = attempts_by_bucket(session, window)
    revenue = revenue_by_bucket(session, window)
    refunds = refunds_by_bucket(session, window)
    lags = lag_by_bucket(session, window)

    total_revenue: dict[str, tuple[int, int]] = {}
    for by_currency in revenue.values():
        for currency, (count, amount) in by_currency.items():
            n, a = total_revenue.get(currency, (0, 0))
            total_revenue[currency] = (n + count, a + amount)
    total_refunds: dict[tuple[str, str], tuple[int, int]] = {}
    for by_key in refunds.values():
        for key, (count, amount) in by_key.items():
            n, a = total_refunds.get(key, (0, 0))
            total_refunds[key] = (n + count, a + amount)

    series = []
    step = BUCKETS[window.bucket]
    when = floor_bucket(window.start, window.bucket)
    while when < window.end:
        counts = attempts.get(when, {"succeeded": 0, "failed": 0})
        series.append({
            "start": when,
            **_attempt_fields(counts["succeeded"], counts["failed"]),
            "revenue": _money_rows(revenue.get(when, {})),
            "refunds": _refund_rows(refunds.get(when, {})),
            "webhookLag": lags.get(when, EMPTY_LAG),
        })
        when += step

    succeeded = sum(c["succeeded"] for c in attempts.values())
    failed = sum(c["failed"] for c in attempts.values())
    return {
        "from": window.start,
        "to": window.end,
        "bucket": window.bucket,
        "totals": {
            **_attempt_fields(succeeded, failed),
            "ordersCreated": orders_created(session, window),
            "revenue": _money_rows(total_revenue),
            "refunds": _refund_rows(total_refunds),
            "failureReasons": failure_reasons(session, window),
            "webhookLag": lag_percentiles(session, window.start, window.end),
        },
        "series": series,
    }


def fact_counts(session: Session) -> dict[str, list[tuple[tuple[str, ...], int]]]:
    """Every fact counter of ``/metrics``, counted from the rows: the same number from
    every process, after every restart, and a duplicate delivery is one more
    ``duplicate`` delivery row, never a second captured payment."""
    kind = sa.case((Order.sku.is_not(None), "catalog"), else_="service")
    method = sa.func.coalesce(Payment.method, "unknown")
    code = sa.func.coalesce(Payment.error_code, "unknown")
    reason = sa.func.coalesce(Payment.error_description, "unknown")

    def rows(statement) -> list[tuple[tuple[str, ...], int]]:
        return [(tuple(str(v) for v in row[:-1]), int(row[-1] or 0))
                for row in session.execute(statement)]

    return {
        "orders_created": rows(sa.select(kind, sa.func.count()).group_by(kind)),
        "payments": rows(sa.select(Payment.status, method, sa.func.count())
                         .group_by(Payment.status, method)),
        "payment_failures": rows(sa.select(code, reason, sa.func.count())
                                 .where(Payment.status == "failed").group_by(code, reason)),
        "refunds": rows(sa.select(Refund.status, sa.func.count()).group_by(Refund.status)),
        "webhook_deliveries": rows(sa.select(WebhookDelivery.outcome, sa.func.count())
                                   .group_by(WebhookDelivery.outcome)),
        "orders_paid": rows(sa.select(Order.currency, sa.func.count())
                            .where(Order.status == "paid").group_by(Order.currency)),
        "order_value": rows(sa.select(Order.currency, sa.func.sum(Order.amount))
                            .where(Order.status == "paid").group_by(Order.currency)),
    }
