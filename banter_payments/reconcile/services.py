"""The reconcile job: ask the gateway about orders that should have been paid by now.

Webhooks can be lost and clients can close the app before verifying, so an order still
open ``orders.reconcile_after_seconds`` after it was created is looked up with
``GET /v1/orders/{id}/payments``, and every payment found goes through the same
``apply_gateway_payment`` as verify and webhooks do. An order open for longer than
``orders.expire_after_seconds`` whose payments show no money captured or authorized is
expired. Running the job again finds the same facts and changes nothing more.

Each order is handled in three steps, never holding a row lock across a gateway call:

1. claim a batch in a short transaction: candidate rows are locked with ``SELECT ... FOR
   UPDATE SKIP LOCKED`` (PostgreSQL), so concurrent workers take different orders, and
   leased in ``reconcile_checks`` (an upsert that only succeeds where no live lease
   exists, which is what actually keeps two workers apart);
2. fetch the order's payments from the gateway, outside any transaction;
3. apply them in a transaction of their own, and release the lease.

The job runs on a request whose transaction manager is idle (a console script's, or one
made by ``job_request``), because it commits once per order.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import logging
import os
import socket
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

import sqlalchemy as sa
from pyramid.request import Request
from pyramid.scripting import prepare

from ..clock import utcnow
from ..errors import APIError
from ..gateway.interfaces import IPaymentGateway
from ..orders.models import Order
from ..payments.service import (
    MalformedPaymentEntity,
    PaymentMismatch,
    PaymentReport,
    apply_gateway_payment,
    capture_if_ours,
)
from ..payments.sql import insert_unless_present, write
from ..payments.transitions import OPEN_ORDER_STATUSES, sources
from ..refunds.services import resume_pending_refunds
from .models import ReconcileCheck

log = logging.getLogger(__name__)

LEASE_SECONDS = 120
DEFAULT_BATCH = 200

_orders = Order.__table__
_checks = ReconcileCheck.__table__


@dataclass
class ReconcileReport:
    """What one run changed, by order id."""

    checked: int = 0
    paid: list[str] = field(default_factory=list)
    attempted: list[str] = field(default_factory=list)
    expired: list[str] = field(default_factory=list)
    anomalies: list[str] = field(default_factory=list)
    refunds_resumed: list[dict[str, str]] = field(default_factory=list)
    errors: dict[str, str] = field(default_factory=dict)

    @property
    def changed(self) -> int:
        return len(self.paid) + len(self.attempted) + len(self.expired)

    def to_json(self) -> dict[str, Any]:
        return {
            "checked": self.checked,
            "changed": self.changed,
            "paid": list(self.paid),
            "attempted": list(self.attempted),
            "expired": list(self.expired),
            "anomalies": list(self.anomalies),
            "refundsResumed": list(self.refunds_resumed),
            "errors": dict(self.errors),
        }


@dataclass(frozen=True)
class _Claimed:
    order_id: str
    razorpay_order_id: str | None


def worker_name() -> str:
    return f"{socket.gethostname()[:40]}:{os.getpid()}"


@contextlib.contextmanager
def job_request(registry, *, base_url: str | None = None) -> Iterator[Request]:
    """A request for a job to run on, with its own idle transaction manager.

    It is a POST so that its session is the writer (``BEGIN IMMEDIATE`` on SQLite).
    """
    request = Request.blank("/", base_url=base_url, method="POST")
    env = prepare(request=request, registry=registry)
    try:
        yield env["request"]
    finally:
        env["closer"]()


def reconcile_orders(request: Request, *, now: dt.datetime | None = None,
                     batch_size: int = DEFAULT_BATCH, max_batches: int | None = None,
                     worker: str | None = None) -> ReconcileReport:
    """Reconcile every open order older than ``orders.reconcile_after_seconds``.

    ``request.tm`` must be idle: each claim and each order gets its own transaction.
    Batches continue until nothing is left to claim (or ``max_batches``).
    """
    settings = request.registry.settings
    now = now or utcnow()
    worker = worker or worker_name()
    cutoff = now - dt.timedelta(seconds=settings["orders.reconcile_after_seconds"])
    expire_cutoff = now - dt.timedelta(seconds=settings["orders.expire_after_seconds"])
    report = ReconcileReport()
    batches = 0
    while max_batches is None or batches < max_batches:
        batches += 1
        with request.tm:
            claimed = _claim(request.dbsession, now, cutoff, batch_size, worker)
        if not claimed:
            break
        for item in claimed:
            report.checked += 1
            _reconcile_one(request, item, now, expire_cutoff, report)
    # Refunds left pending without a gateway answer (a timeout, a crash) go out again
    # with their own idempotency key: Razorpay answers with the refund it already made,
    # or makes it now.
    refunds = resume_pending_refunds(
        request, now=now, older_than_seconds=settings["orders.reconcile_after_seconds"])
    report.refunds_resumed.extend(refunds["resumed"])
    report.errors.update({f"refund:{rid}": error for rid, error in refunds["errors"].items()})
    log.info("reconcile: checked %d, paid %d, expired %d, errors %d", report.checked,
             len(report.paid), len(report.expired), len(report.errors))
    return report


def _claim(session, now: dt.datetime, cutoff: dt.datetime, limit: int,
           worker: str) -> list[_Claimed]:
    # Leased by a live worker, or already checked in this run (checked_at = its now).
    busy_or_done = sa.exists().where(
        _checks.c.order_id == _orders.c.id,
        sa.or_(_checks.c.claimed_until > now, _checks.c.checked_at >= now),
    )
    candidates = session.execute(
        sa.select(_orders.c.id, _orders.c.razorpay_order_id)
        .where(_orders.c.status.in_(OPEN_ORDER_STATUSES), _orders.c.created_at <= cutoff,
               ~busy_or_done)
        .order_by(_orders.c.created_at, _orders.c.id)
        .limit(limit)
        .with_for_update(skip_locked=True, of=_orders)
    ).all()
    until = now + dt.timedelta(seconds=LEASE_SECONDS)
    claimed = []
    for row in candidates:
        if _lease(session, row.id, now, until, worker):
            claimed.append(_Claimed(row.id, row.razorpay_order_id))
    return claimed


def _lease(session, order_id: str, now: dt.datetime, until: dt.datetime,
           worker: str) -> bool:
    """Take the order's lease unless a live one exists."""
    if insert_unless_present(session, _checks, {
        "order_id": order_id, "claimed_until": until, "claimed_by": worker, "checks": 0,
    }, ["order_id"]):
        return True
    result = write(session,
        sa.update(_checks)
        .where(_checks.c.order_id == order_id,
               sa.or_(_checks.c.claimed_until.is_(None), _checks.c.claimed_until <= now))
        .values(claimed_until=until, claimed_by=worker)
    )
    return result.rowcount == 1


def _release(session, order_id: str, now: dt.datetime, result: str) -> None:
    write(session,
        sa.update(_checks).where(_checks.c.order_id == order_id).values(
            claimed_until=None, claimed_by=None, checked_at=now,
            checks=_checks.c.checks + 1, last_result=result[:200],
        )
    )


def _reconcile_one(request: Request, item: _Claimed, now: dt.datetime,
                   expire_cutoff: dt.datetime, report: ReconcileReport) -> None:
    entities: list[dict] = []
    if item.razorpay_order_id:
        try:
            entities = request.find_service(IPaymentGateway).fetch_order_payments(
                item.razorpay_order_id
            )
        except APIError as exc:
            report.errors[item.order_id] = exc.message
            log.warning("reconcile %s: %s", item.order_id, exc.message)
            with request.tm:
                _release(request.dbsession, item.order_id, now, f"error: {exc.message}")
            return
    try:
        entities = _capture_first(request, item.order_id, entities)
        with request.tm:
            result = _apply(request, item.order_id, entities, now, expire_cutoff, report)
            _release(request.dbsession, item.order_id, now, result)
    except Exception as exc:  # one bad order must not stop the others
        message = exc.message if isinstance(exc, APIError) else f"{type(exc).__name__}: {exc}"
        report.errors[item.order_id] = message
        log.exception("reconcile %s failed", item.order_id)
        with request.tm:
            _release(request.dbsession, item.order_id, now, f"error: {message}")


def _capture_first(request: Request, order_id: str, entities: list) -> list:
    """With manual capture, capture what is ours to capture before the transaction that
    applies the payments opens: an order with a failed attempt and a later authorized one
    would otherwise hold the order's row lock, written for the first, across the capture
    call for the second. At most one payment is captured for an order."""
    if request.registry.settings["razorpay.capture"] != "manual":
        return entities
    with request.tm:
        order = request.dbsession.get(Order, order_id)
    captured_one = False
    result = []
    for entity in entities:
        if not captured_one and isinstance(entity, dict) \
                and entity.get("order_id") == order.razorpay_order_id:
            try:
                applied = capture_if_ours(request, order, entity)
            except MalformedPaymentEntity:
                applied = entity
            captured_one = applied is not entity
            entity = applied
        result.append(entity)
    return result


def _apply(request: Request, order_id: str, entities: list[dict], now: dt.datetime,
           expire_cutoff: dt.datetime, report: ReconcileReport) -> str:
    session = request.dbsession
    order = session.get(Order, order_id, populate_existing=True)
    before = order.status
    money_pending = False
    mismatched = False
    # Oldest attempt first, so states move in the order they happened.
    for entity in sorted(entities, key=lambda e: (e.get("created_at") or 0, e.get("id") or "")
                         if isinstance(e, dict) else (0, "")):
        if not isinstance(entity, dict) or entity.get("order_id") != order.razorpay_order_id:
            continue
        try:
            apply_gateway_payment(request, order, entity, source="reconcile", now=now)
        except PaymentMismatch:
            mismatched = True
            continue
        status = PaymentReport.from_entity(entity).status
        money_pending = money_pending or status in ("authorized", "captured")
    if (order.status in OPEN_ORDER_STATUSES and not money_pending
            and order.created_at <= expire_cutoff):
        result = write(session,
            sa.update(_orders)
            .where(_orders.c.id == order.id, _orders.c.status.in_(sources("order", "expired")))
            .values(status="expired", expired_at=now, updated_at=now)
        )
        if result.rowcount == 1:
            session.refresh(order)
    if mismatched:
        report.anomalies.append(order.id)
    if order.status == before:
        return "anomaly" if mismatched else "unchanged"
    {"paid": report.paid, "expired": report.expired}.get(
        order.status, report.attempted
    ).append(order.id)
    return order.status
