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

The job runs on a ``banter_payments.jobs.Job`` (a session and an idle transaction
manager, no request), because it commits once per order: ``Job(registry)
.find_service(IReconcileService).reconcile_orders()``, from the console script, the
admin route or a worker alike.
"""

from __future__ import annotations

import datetime as dt
import logging
import os
import socket
from dataclasses import dataclass, field
from typing import Any

import sqlalchemy as sa
from sqlalchemy.orm import Session
from zope.interface import implementer

from ..clock import utcnow
from ..db import insert_unless_present, locked, write
from ..errors import APIError
from ..gateway.interfaces import IPaymentGateway
from ..orders.models import OPEN_ORDER_STATUSES, Order
from ..payments.interfaces import IPaymentService
from ..payments.services import MalformedPaymentEntity, PaymentMismatch, PaymentReport
from ..payments.transitions import sources
from ..refunds.interfaces import IRefundService
from .interfaces import IReconcileService
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


def _claim(session, now: dt.datetime, cutoff: dt.datetime, limit: int,
           worker: str) -> list[_Claimed]:
    # Leased by a live worker, or already checked in this run (checked_at = its now).
    busy_or_done = sa.exists().where(
        _checks.c.order_id == _orders.c.id,
        sa.or_(_checks.c.claimed_until > now, _checks.c.checked_at >= now),
    )
    candidates = session.execute(
        locked(sa.select(_orders.c.id, _orders.c.razorpay_order_id)
        .where(_orders.c.status.in_(OPEN_ORDER_STATUSES), _orders.c.created_at <= cutoff,
               ~busy_or_done)
        .order_by(_orders.c.created_at, _orders.c.id)
        .limit(limit), skip_locked=True, of=_orders)
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


@implementer(IReconcileService)
class ReconcileService:
    """The reconcile job, bound to a session and its idle transaction manager (a
    ``Job``'s), the gateway, the payment and refund services and the settings."""

    def __init__(self, session: Session, tm: Any, gateway: IPaymentGateway,
                 payments: IPaymentService, refunds: IRefundService, settings: dict):
        self.session = session
        self.tm = tm
        self.gateway = gateway
        self.payments = payments
        self.refunds = refunds
        self.settings = settings

    def reconcile_orders(self, *, now: dt.datetime | None = None,
                         batch_size: int = DEFAULT_BATCH, max_batches: int | None = None,
                         worker: str | None = None) -> ReconcileReport:
        """Reconcile every open order older than ``orders.reconcile_after_seconds``.

        ``self.tm`` must be idle (a job's): each claim and each order gets its own transaction.
        Batches continue until nothing is left to claim (or ``max_batches``).
        """
        settings = self.settings
        now = now or utcnow()
        worker = worker or worker_name()
        cutoff = now - dt.timedelta(seconds=settings["orders.reconcile_after_seconds"])
        expire_cutoff = now - dt.timedelta(seconds=settings["orders.expire_after_seconds"])
        report = ReconcileReport()
        batches = 0
        while max_batches is None or batches < max_batches:
            batches += 1
            with self.tm:
                claimed = _claim(self.session, now, cutoff, batch_size, worker)
            if not claimed:
                break
            for item in claimed:
                report.checked += 1
                self._reconcile_one(item, now, expire_cutoff, report)
        # Refunds left pending without a gateway answer (a timeout, a crash) go out again
        # with their own idempotency key: Razorpay answers with the refund it already made,
        # or makes it now.
        refunds = self.refunds.resume_pending_refunds(
            now=now, older_than_seconds=settings["orders.reconcile_after_seconds"])
        report.refunds_resumed.extend(refunds["resumed"])
        report.errors.update({f"refund:{rid}": error for rid, error in refunds["errors"].items()})
        log.info("reconcile: checked %d, paid %d, expired %d, errors %d", report.checked,
                 len(report.paid), len(report.expired), len(report.errors))
        return report

    def _reconcile_one(self, item: _Claimed, now: dt.datetime,
                       expire_cutoff: dt.datetime, report: ReconcileReport) -> None:
        entities: list[dict] = []
        if item.razorpay_order_id:
            try:
                entities = self.gateway.fetch_order_payments(
                    item.razorpay_order_id
                )
            except APIError as exc:
                report.errors[item.order_id] = exc.message
                log.warning("reconcile %s: %s", item.order_id, exc.message)
                with self.tm:
                    _release(self.session, item.order_id, now, f"error: {exc.message}")
                return
        try:
            entities = self._capture_first(item.order_id, entities)
            with self.tm:
                result = self._apply(item.order_id, entities, now, expire_cutoff, report)
                _release(self.session, item.order_id, now, result)
        except Exception as exc:  # one bad order must not stop the others
            message = exc.message if isinstance(exc, APIError) else f"{type(exc).__name__}: {exc}"
            report.errors[item.order_id] = message
            log.exception("reconcile %s failed", item.order_id)
            with self.tm:
                _release(self.session, item.order_id, now, f"error: {message}")

    def _capture_first(self, order_id: str, entities: list) -> list:
        """With manual capture, capture what is ours to capture before the transaction that
        applies the payments opens: an order with a failed attempt and a later authorized one
        would otherwise hold the order's row lock, written for the first, across the capture
        call for the second. At most one payment is captured for an order."""
        if self.settings["razorpay.capture"] != "manual":
            return entities
        with self.tm:
            order = self.session.get(Order, order_id)
        captured_one = False
        result = []
        for entity in entities:
            if not captured_one and isinstance(entity, dict) \
                    and entity.get("order_id") == order.razorpay_order_id:
                try:
                    applied = self.payments.capture_if_ours(order, entity)
                except MalformedPaymentEntity:
                    applied = entity
                captured_one = applied is not entity
                entity = applied
            result.append(entity)
        return result

    def _apply(self, order_id: str, entities: list[dict], now: dt.datetime,
               expire_cutoff: dt.datetime, report: ReconcileReport) -> str:
        session = self.session
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
                self.payments.apply_gateway_payment(order, entity, source="reconcile", now=now)
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


def reconcile_service_factory(context: Any, source: Any) -> ReconcileService:
    """``source`` is a ``banter_payments.jobs.Job`` (its transaction manager is idle)."""
    return ReconcileService(
        source.dbsession, source.tm, source.find_service(IPaymentGateway),
        source.find_service(IPaymentService), source.find_service(IRefundService),
        source.registry.settings,
    )
