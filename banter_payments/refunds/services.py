"""Refunding an order, and recording what the gateway says about refunds.

Creating a refund takes three steps, so that no row lock is ever held across a gateway
call (DESIGN.md) and yet two concurrent refunds can never exceed what was captured:

1. **Reserve**, in a short transaction of its own that commits at once: lock the order
   row (``SELECT ... FOR UPDATE``; on SQLite the ``BEGIN IMMEDIATE`` write lock), add up
   the refunds of its captured payment that are pending or processed, refuse what does
   not fit (409), and insert the ``Refund`` as ``pending``. A pending refund counts
   against what is left, so a concurrent refund sees it. It cannot share the request's
   transaction: that one commits only after the gateway call, and a lock held until then
   is what must be avoided. On SQLite the reservation is the first thing the request
   writes (the request's own transaction has not begun), so it does not wait on itself.
2. **Call the gateway** with the refund's ``X-Refund-Idempotency`` key. The key is
   derived from the caller's ``Idempotency-Key`` when there is one (and kept in the WSGI
   environ across pyramid_retry's attempts), so a retried request finds its reservation
   and re-sends the same key: Razorpay answers with the first refund instead of making a
   second one.
3. **Record the answer** in the request's transaction: ``processed`` or ``failed`` move
   the refund forward (one conditional ``UPDATE ... WHERE status = 'pending'``: the winner,
   whether this answer or a webhook, does the rest exactly once). A refusal from the
   gateway marks the refund failed (201, ``status: failed``), which frees its amount; a
   timeout or outage leaves it pending (502) until a webhook or a retry settles it.

The order's ``refunded_amount``/``refund_status`` follow *processed* refunds only (what
has certainly gone back to the customer); what is left to refund is the captured amount
minus processed *and* pending refunds. A processed refund of a purchase claws back the
grants in proportion (``banter_payments.refunds.clawback``) through the ledger, under the
reference ``refund:<id>``; what the buyer had already spent is recorded as ``shortfall``.

**Which refunds count on the order.** An order is paid by one payment: its *paying
payment*, the first one captured (``captured_payment``; the same choice the state machine
makes when it flags a second capture as one to refund). Only refunds of that payment
that are not ``automatic`` *apply to the order*: they count in what is left to refund
(step 1), in ``refunded_amount``/``refund_status``, and they claw back. A refund of any
other payment of the order (the customer paid twice and an operator refunded the extra
payment in Razorpay's dashboard) is recorded, so operators see it, but gives back money
the order never kept: it changes nothing on the order and takes nothing back, exactly
like an ``automatic`` refund of an authorization that was never captured. The Refund JSON
says which is which with ``appliesToOrder``. The reservation ceiling and the order's
totals use this one rule (``applies_to_order``), so they cannot disagree, and an admin
refund (``POST /orders/{id}/refunds``) always refunds the paying payment.

**The gateway has the last word on processed.** A refund we marked ``failed`` (the
gateway refused it with ``bad_request``, or said it failed) that the gateway later
reports ``processed`` did send the money: it moves to ``processed`` and is settled like
any other (counted, clawed back, ``RefundProcessed``); ``failed_at`` and
``failure_reason`` stay as the record of what we had been told. A processed refund never
moves back.
"""

from __future__ import annotations

import datetime as dt
import logging
from collections.abc import Callable
from typing import Any

import sqlalchemy as sa
from sqlalchemy.orm import Session
from zope.interface import implementer

from ..catalog.registry import assets as registered_assets
from ..clock import isoformat, utcnow
from ..cursors import decode_cursor, page
from ..db import locked, update_returning, write
from ..errors import Conflict, GatewayError, NotFound
from ..events import EventSink, RefundFailed, RefundProcessed
from ..gateway.interfaces import IPaymentGateway
from ..ledger.interfaces import ILedgerService
from ..ledger.services import LedgerService
from ..orders.models import Order
from ..payments.models import Payment
from ..payments.services import RAZORPAY_ID
from .clawback import clawback_for
from .interfaces import IRefundService
from .models import Refund

log = logging.getLogger(__name__)

COUNTED_STATUSES = ("pending", "processed")

_refunds = Refund.__table__
_orders = Order.__table__


class KeyReused(Conflict):
    status = 422
    code = "idempotency_key_reused"
    message = "This Idempotency-Key was used for a different refund."


def _captured_payments(order_ids) -> sa.Select:
    return (sa.select(Payment)
            .where(Payment.order_id.in_(order_ids),
                   Payment.status.in_(("captured", "refunded")),
                   Payment.captured_at.is_not(None))
            .order_by(Payment.order_id, Payment.captured_at, Payment.id))


def captured_payment(session: Session, order_id: str) -> Payment | None:
    """The order's paying payment: the first one captured (see the module docstring)."""
    return session.scalar(_captured_payments([order_id]).limit(1))


def paying_payment_ids(session: Session, order_ids: list[str]) -> dict[str, str]:
    """{order id: id of its paying payment} for the orders that have one, in one query."""
    paying: dict[str, str] = {}
    for payment in session.scalars(_captured_payments(sorted(set(order_ids)))):
        paying.setdefault(payment.order_id, payment.id)
    return paying


def applies_to_order(refund: Refund, paying_payment_id: str | None) -> bool:
    """Whether ``refund`` counts on its order and claws back: a refund of the order's
    paying payment that is not Razorpay's automatic refund of an uncaptured payment.

    The one rule for both the reservation ceiling (``committed_amount``) and the order's
    totals (``mark_processed``).
    """
    return not refund.automatic and refund.payment_id == paying_payment_id


def committed_amount(session: Session, paying_payment_id: str) -> int:
    """What is pending or processed against the order's paying payment and applies to
    the order: not available to refund (the same rule as ``applies_to_order``)."""
    total = session.scalar(
        sa.select(sa.func.coalesce(sa.func.sum(Refund.amount), 0))
        .where(Refund.payment_id == paying_payment_id,
               Refund.status.in_(COUNTED_STATUSES), Refund.automatic.is_(False))
    )
    return int(total)  # PostgreSQL's SUM of a bigint is a numeric


def _clawback_plan(order: Order, *, before: int, amount: int) -> dict[str, int]:
    if not (order.user_id and order.grants and order.fulfilled_at is not None):
        return {}
    return clawback_for(order.grants, before=before, amount=amount, captured=order.amount)


def _to_processed(session: Session, refund_id: str, was: str, now: dt.datetime) -> bool:
    return write(session, sa.update(_refunds)
                 .where(_refunds.c.id == refund_id, _refunds.c.status == was)
                 .values(status="processed", processed_at=now, updated_at=now)
                 ).rowcount == 1


# Reading


def order_refunds(session: Session, order_id: str) -> list[Refund]:
    return list(session.scalars(
        sa.select(Refund).where(Refund.order_id == order_id).order_by(Refund.id)))


def refund_to_json(refund: Refund, *, paying_payment_id: str | None) -> dict[str, Any]:
    """The Refund JSON; ``paying_payment_id`` is that of the refund's order."""
    return {
        "id": refund.id,
        "orderId": refund.order_id,
        "razorpayPaymentId": refund.razorpay_payment_id,
        "razorpayRefundId": refund.razorpay_refund_id,
        "amount": refund.amount,
        "currency": refund.currency,
        "status": refund.status,
        "reason": refund.reason,
        "automatic": refund.automatic,
        "appliesToOrder": applies_to_order(refund, paying_payment_id),
        "clawedBack": dict(refund.clawed_back or {}),
        "shortfall": dict(refund.shortfall or {}),
        "failureReason": refund.failure_reason,
        "createdAt": isoformat(refund.created_at),
        "processedAt": isoformat(refund.processed_at),
    }


def refunds_to_json(session: Session, refunds: list[Refund]) -> list[dict[str, Any]]:
    """Refund JSON for several refunds, their orders' paying payments read in one query."""
    paying = paying_payment_ids(session, [refund.order_id for refund in refunds])
    return [refund_to_json(refund, paying_payment_id=paying.get(refund.order_id))
            for refund in refunds]


def _error_text(exc: Exception) -> str:
    """One bounded line for a report (a database error's text carries its whole SQL)."""
    lines = str(exc).strip().splitlines()
    return f"{type(exc).__name__}: {lines[0] if lines else ''}"[:300]


def admin_refunds(session: Session, *, status: str | None, with_shortfall: bool,
                  limit: int, cursor: str | None) -> tuple[list[Refund], str | None]:
    """Every refund, newest first (keyset by id), for operators."""
    query = sa.select(Refund)
    if status is not None:
        query = query.where(Refund.status == status)
    if with_shortfall:
        query = query.where(Refund.has_shortfall.is_(True))
    if cursor:
        query = query.where(Refund.id < decode_cursor(cursor, "rfd"))
    return page(list(session.scalars(query.order_by(Refund.id.desc()).limit(limit + 1))),
                limit)


@implementer(IRefundService)
class RefundService:
    """Refunds, bound to what they need: the session (the request's or a job's), a
    writer session factory (the reservation's own short transaction), the transaction
    manager (the resume job's one transaction per refund), the gateway, the ledger, the
    settings, the registered assets and an event sink."""

    def __init__(self, session: Session, tm: Any, writer: Callable[[], Session],
                 gateway: IPaymentGateway, ledger: ILedgerService, settings: dict,
                 assets: frozenset[str], events: EventSink):
        self.session = session
        self.tm = tm
        self.writer = writer
        self.gateway = gateway
        self.ledger = ledger
        self.settings = settings
        self.assets = assets
        self.events = events

    # Step 1: reserve

    def _reserve(self, order_id: str, *, amount: int | None, reason: str,
                 notes: dict, gateway_key: str, created_by: str | None) -> Refund:
        with self.writer() as session, session.begin():
            existing = session.scalar(
                sa.select(Refund).where(Refund.gateway_idempotency_key == gateway_key))
            if existing is not None:
                if existing.order_id != order_id or (amount is not None
                                                     and existing.amount != amount):
                    raise KeyReused()
                return existing
            order = session.scalar(locked(sa.select(Order).where(Order.id == order_id)))
            if order is None:
                raise NotFound("No such order.")
            payment = captured_payment(session, order_id) if order.status == "paid" else None
            if payment is None:
                raise Conflict("Only a paid order can be refunded.",
                               details={"status": order.status})
            committed = committed_amount(session, payment.id)
            remaining = order.amount - committed
            if remaining <= 0:
                raise Conflict("This order has been refunded in full.",
                               details={"remaining": 0})
            amount = remaining if amount is None else amount
            if amount > remaining:
                raise Conflict("The refund is larger than what is left to refund.",
                               details={"remaining": remaining, "requested": amount})
            if self.settings["refunds.require_full_clawback"]:
                self._check_clawback_collectable(session, order, before=committed,
                                                 amount=amount)
            refund = Refund(
                order_id=order.id, payment_id=payment.id,
                razorpay_payment_id=payment.razorpay_payment_id, amount=amount,
                currency=order.currency, status="pending", reason=reason,
                created_by=created_by, gateway_idempotency_key=gateway_key,
                notes=notes,
            )
            session.add(refund)
            session.flush()
            return refund

    def _check_clawback_collectable(self, session: Session, order: Order, *,
                                    before: int, amount: int) -> None:
        """``refunds.require_full_clawback``: refuse a refund the wallet cannot pay back.

        Checked when the refund is reserved; a balance spent between this check and the
        refund's processing still ends as a recorded shortfall, never a negative balance.
        """
        plan = {asset: qty for asset, qty in _clawback_plan(order, before=before,
                                                            amount=amount).items() if qty}
        if not plan:
            return
        # The reservation's own session, not the service's: the ledger read must see
        # what this short transaction sees.
        ledger = LedgerService(session, assets=self.assets)
        balances = ledger.balances(order.user_id, plan)
        short = {asset: qty - balances[asset] for asset, qty in plan.items()
                 if balances[asset] < qty}
        if short:
            raise Conflict("The buyer has already spent what this refund would take back.",
                           details={"clawback": plan, "shortfall": short})

    # Steps 2 and 3: the gateway, then its answer

    def create_refund(self, order_id: str, *, amount: int | None, reason: str,
                      gateway_key: str, created_by: str | None,
                      notes: dict | None = None) -> Refund:
        """Reserve, ask the gateway, record its answer; returns the refund as it now is.

        ``gateway_key`` is the refund's ``X-Refund-Idempotency`` key: the same key for a
        retried request, so the gateway never refunds twice (see the module docstring).
        """
        reserved = self._reserve(order_id, amount=amount, reason=reason,
                                 notes=dict(notes or {}), gateway_key=gateway_key,
                                 created_by=created_by)
        session = self.session
        if reserved.status != "pending" or reserved.razorpay_refund_id is not None:
            return session.get(Refund, reserved.id)  # settled already: a retried request
        gateway = self.gateway
        gateway_notes = {**reserved.notes, "refund_id": reserved.id, "order_id": order_id}
        try:
            entity = gateway.refund_payment(reserved.razorpay_payment_id, reserved.amount,
                                            gateway_key, gateway_notes, reserved.id)
        except GatewayError as exc:
            if exc.details.get("reason") != "bad_request":
                log.warning("refund %s: outcome unknown (%s); it stays pending", reserved.id,
                            exc.details.get("reason"))
                raise GatewayError(exc.message, details={**exc.details,
                                                         "refundId": reserved.id}) from None
            refund = session.get(Refund, reserved.id)
            self.mark_failed(refund, failure_reason=exc.message)
            return refund
        refund = session.get(Refund, reserved.id)
        self.apply_refund_entity(refund, entity)
        return refund

    def apply_refund_entity(self, refund: Refund, entity: dict[str, Any]) -> None:
        """Record a refund entity the gateway sent us (API answer or signed webhook)."""
        razorpay_refund_id = entity.get("id")
        if isinstance(razorpay_refund_id, str) and RAZORPAY_ID.match(razorpay_refund_id) \
                and refund.razorpay_refund_id is None:
            write(self.session, sa.update(_refunds)
                  .where(_refunds.c.id == refund.id, _refunds.c.razorpay_refund_id.is_(None))
                  .values(razorpay_refund_id=razorpay_refund_id, updated_at=utcnow()))
            self.session.refresh(refund)
        status = entity.get("status")
        if status == "processed":
            self.mark_processed(refund)
        elif status == "failed":
            self.mark_failed(refund, failure_reason="The gateway reports the refund failed.")

    def mark_processed(self, refund: Refund, *,
                       now: dt.datetime | None = None) -> bool:
        """pending (or failed) -> processed, once: the winner settles it.

        The money has left, whatever we thought before: a refund we had marked failed is
        settled all the same. Settling a refund that applies to the order counts it there and
        claws back; any other refund is only recorded (see the module docstring).
        """
        session = self.session
        now = now or utcnow()
        won = _to_processed(session, refund.id, "pending", now)
        if not won and _to_processed(session, refund.id, "failed", now):
            won = True
            log.warning("refund %s: the gateway says processed, we had it failed; settling it",
                        refund.id)
        if not won:
            session.refresh(refund)
            return False
        paying = captured_payment(session, refund.order_id)
        if applies_to_order(refund, paying.id if paying is not None else None):
            collected, shortfall = self._settle_order(refund, now)
            write(session, sa.update(_refunds).where(_refunds.c.id == refund.id)
                  .values(clawed_back=collected, shortfall=shortfall,
                          has_shortfall=any(shortfall.values())))
        elif not refund.automatic:
            log.warning("refund %s of payment %s: not the payment that paid order %s; "
                        "recorded, not counted on the order, nothing clawed back", refund.id,
                        refund.razorpay_payment_id, refund.order_id)
        session.refresh(refund)
        log.info("refund %s of order %s processed", refund.id, refund.order_id)
        self.events.emit(RefundProcessed(self.events.source, refund))
        return True

    def _settle_order(self, refund: Refund,
                      now: dt.datetime) -> tuple[dict[str, int], dict[str, int]]:
        """Count a processed refund on its order and claw back the order's grants.

        Only for a refund that applies to the order: the reservation ceiling counts exactly
        these, so ``refunded_amount`` never goes past the order's amount.
        """
        session = self.session
        refunded = _orders.c.refunded_amount + refund.amount
        # The status is assigned first: MySQL and MariaDB evaluate SET left to right,
        # so an expression after ``refunded_amount = ...`` would read the new amount.
        after = update_returning(
            session, sa.update(_orders).where(_orders.c.id == refund.order_id)
            .ordered_values(
                (_orders.c.refund_status, sa.case((refunded >= _orders.c.amount, "full"),
                                                  else_="partial")),
                (_orders.c.refunded_amount, refunded), (_orders.c.updated_at, now)),
            _orders.c.refunded_amount).refunded_amount
        order = session.get(Order, refund.order_id)
        session.refresh(order)
        plan = _clawback_plan(order, before=after - refund.amount, amount=refund.amount)
        wanted = {asset: qty for asset, qty in plan.items() if qty > 0}
        collected = dict.fromkeys(plan, 0)
        shortfall = dict.fromkeys(plan, 0)
        if wanted:
            ledger = self.ledger
            _posting, got, short = ledger.clawback(
                order.user_id, wanted, reference=f"refund:{refund.id}",
                description=f"Refund of {order.title}",
                metadata={"orderId": order.id, "refundId": refund.id},
            )
            collected.update(got)
            shortfall.update(short)
            if any(short.values()):
                log.warning("refund %s: could not claw back %s from %s (already spent)",
                            refund.id, short, order.user_id)
        return collected, shortfall

    def mark_failed(self, refund: Refund, *, failure_reason: str,
                    now: dt.datetime | None = None) -> bool:
        """pending -> failed, once; the amount becomes refundable again."""
        session = self.session
        now = now or utcnow()
        won = write(session, sa.update(_refunds)
                    .where(_refunds.c.id == refund.id, _refunds.c.status == "pending")
                    .values(status="failed", failed_at=now, updated_at=now,
                            failure_reason=failure_reason[:500])).rowcount == 1
        session.refresh(refund)
        if not won:
            if refund.status == "processed":
                log.warning("refund %s: the gateway says failed, we had it processed", refund.id)
            return False
        log.info("refund %s of order %s failed: %s", refund.id, refund.order_id, failure_reason)
        self.events.emit(RefundFailed(self.events.source, refund))
        return True

    # Resuming refunds whose gateway answer never came

    def resume_pending_refunds(self, *, now: dt.datetime | None = None,
                               older_than_seconds: int = 15 * 60,
                               limit: int = 100) -> dict[str, Any]:
        """Re-send every refund left pending without a gateway answer (a timeout, a crash).

        The refund goes out again with its own ``X-Refund-Idempotency`` key, so Razorpay
        answers with the refund it made the first time, or makes it now (which is what the
        admin asked for); either way it is recorded like an API answer. ``request.tm`` must be
        idle: the list and each refund get their own short transaction, and no transaction
        is open during a gateway call. Meant for the reconcile job: whatever goes wrong with
        one refund (any exception) is reported in ``errors`` under its id, its transaction
        rolls back, and the others still go out.
        """
        now = now or utcnow()
        cutoff = now - dt.timedelta(seconds=older_than_seconds)
        with self.tm:
            candidates = self.session.execute(
                sa.select(Refund.id, Refund.razorpay_payment_id, Refund.amount,
                          Refund.gateway_idempotency_key, Refund.notes, Refund.order_id)
                .where(Refund.status == "pending", Refund.razorpay_refund_id.is_(None),
                       Refund.gateway_idempotency_key.is_not(None), Refund.created_at <= cutoff)
                .order_by(Refund.id).limit(limit)
            ).all()
        gateway = self.gateway
        report: dict[str, Any] = {"resumed": [], "errors": {}}
        for row in candidates:
            try:
                resumed = self._resume_one(gateway, row)
            except GatewayError as exc:
                report["errors"][row.id] = exc.message
            except Exception as exc:  # one refund must not stop the others, nor the job
                log.exception("refund %s: resuming it failed", row.id)
                report["errors"][row.id] = _error_text(exc)
            else:
                report["resumed"].append(resumed)
        return report

    def _resume_one(self, gateway: IPaymentGateway, row: Any) -> dict[str, str]:
        notes = {**(row.notes or {}), "refund_id": row.id, "order_id": row.order_id}
        try:
            entity = gateway.refund_payment(row.razorpay_payment_id, row.amount,
                                            row.gateway_idempotency_key, notes, row.id)
        except GatewayError as exc:
            if exc.details.get("reason") != "bad_request":
                raise
            entity = None
        with self.tm:
            refund = self.session.get(Refund, row.id)
            if entity is None:
                self.mark_failed(refund, failure_reason="The gateway refused the refund.")
            else:
                self.apply_refund_entity(refund, entity)
            return {"id": refund.id, "status": refund.status}


def refund_service_factory(context: Any, source: Any) -> RefundService:
    """``source`` is a request or a ``banter_payments.jobs.Job``."""
    writer, _ = source.registry["banter_payments.session_factories"]
    return RefundService(
        source.dbsession, source.tm, writer, source.find_service(IPaymentGateway),
        source.find_service(ILedgerService), source.registry.settings,
        registered_assets(source.registry), EventSink(source),
    )
