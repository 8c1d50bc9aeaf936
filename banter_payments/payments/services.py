"""One state machine for orders and payments, fed from three doors.

A payment reaches us through the client's verify call, a webhook, or the reconcile job.
All three hand ``PaymentService.apply_gateway_payment`` a payment entity they trust
(fetched from the gateway, or taken from a signed webhook) and it does the same thing
every time:

1. checks the entity against the order (Razorpay order id, amount, currency); a mismatch
   is written on the order for an operator and never fulfilled;
2. captures the payment when capture is ours to do (``razorpay.capture = manual``), before
   touching any row, so no row lock is ever held across a gateway call;
3. records the payment (``INSERT ... ON CONFLICT DO NOTHING``, then one conditional UPDATE
   along ``transitions.PAYMENT_TRANSITIONS``) and moves the order forward the same way;
4. fulfils the order in the transaction whose ``UPDATE ... WHERE status IN (...)`` moved it
   to ``paid`` (rowcount 1 is the winner; every other caller sees rowcount 0). The
   ledger's unique posting reference ``order:<id>`` would refuse a second grant even if
   this logic were wrong.

The loser of the race does nothing more and returns the order as it now is, so every door
answers the same whatever happened first.
"""

from __future__ import annotations

import datetime as dt
import logging
import re
from dataclasses import dataclass
from typing import Any

import sqlalchemy as sa
from sqlalchemy.orm import Session, lazyload
from sqlalchemy.orm.attributes import set_committed_value
from zope.interface import implementer

from ..clock import utcnow
from ..db import insert_unless_present, write
from ..errors import Conflict, GatewayError, ValidationFailed
from ..events import EventSink, OrderPaid, PaymentFailed
from ..gateway.interfaces import IPaymentGateway
from ..ids import new_id
from ..ledger.interfaces import ILedgerService
from ..orders.models import Order
from ..storable import storable_text
from ..wallet.interfaces import IWalletService
from .interfaces import IPaymentService
from .models import Payment
from .transitions import PAYMENT_STATUSES, sources

log = logging.getLogger(__name__)

SOURCES = ("verify", "webhook", "reconcile")
# Razorpay ids are short ASCII tokens (pay_..., order_...); anything else in a signed
# payload is refused before it reaches a query.
RAZORPAY_ID = re.compile(r"[A-Za-z0-9_]{1,64}\Z")
CURRENCY = re.compile(r"[A-Za-z]{3}\Z")
ANOMALY_MAX_LENGTH = 500

_orders = Order.__table__
_payments = Payment.__table__


class PaymentMismatch(Conflict):
    """The gateway reported a payment that does not fit the order (another order, another
    amount or currency). The order keeps a note of it (``order.anomaly``) and is not
    fulfilled. Verify answers 409 ``conflict``; a webhook answers 400.

    The note is written in the caller's transaction, so a view that wants it kept must
    *return* the error response (``api_error_view(exc, request)``) rather than let the
    exception propagate, which would roll the transaction back.
    """

    message = "The payment does not match the order."

    def __init__(self, message: str | None = None, *, order: Order | None = None,
                 details: dict[str, Any] | None = None):
        super().__init__(message, details=details)
        self.order = order


class MalformedPaymentEntity(ValidationFailed):
    """What claims to be a payment entity lacks a field the state machine needs."""

    message = "The payment entity is malformed."


@dataclass(frozen=True)
class PaymentReport:
    """The fields of a Razorpay payment entity that the state machine reads."""

    razorpay_payment_id: str
    razorpay_order_id: str | None
    status: str
    amount: int
    currency: str
    captured: bool
    method: str | None = None
    error_code: str | None = None
    error_description: str | None = None

    @classmethod
    def from_entity(cls, entity: Any) -> PaymentReport:
        if not isinstance(entity, dict):
            raise MalformedPaymentEntity(details={"payment": "must be an object"})
        problems: dict[str, str] = {}
        payment_id = entity.get("id")
        if not isinstance(payment_id, str) or not RAZORPAY_ID.match(payment_id):
            problems["id"] = "must be a payment id"
        order_id = entity.get("order_id")
        if order_id is not None and (not isinstance(order_id, str)
                                     or not RAZORPAY_ID.match(order_id)):
            problems["order_id"] = "must be an order id or null"
        status = entity.get("status")
        if not isinstance(status, str) or status not in PAYMENT_STATUSES:
            problems["status"] = "must be a known payment status"
        amount = entity.get("amount")
        if isinstance(amount, bool) or not isinstance(amount, int) or amount < 0:
            problems["amount"] = "must be a whole number of minor units"
        currency = entity.get("currency")
        if not isinstance(currency, str) or not CURRENCY.match(currency):
            problems["currency"] = "must be an ISO 4217 code"
        if problems:
            raise MalformedPaymentEntity(details=problems)
        return cls(
            razorpay_payment_id=payment_id,
            razorpay_order_id=order_id,
            status=status,
            amount=amount,
            currency=currency.upper(),
            captured=entity.get("captured") is True or status == "captured",
            method=_text(entity.get("method"), 32),
            error_code=_text(entity.get("error_code"), 64),
            error_description=_text(entity.get("error_description"), 500),
        )

    @property
    def money_captured(self) -> bool:
        """Money moved: captured, or refunded after a capture (not an uncaptured
        authorization that Razorpay gave back)."""
        return self.status == "captured" or (self.status == "refunded" and self.captured)


def _text(value: Any, limit: int) -> str | None:
    """Free text from the gateway, bounded and storable (``banter_payments.storable``)."""
    if not isinstance(value, str):
        return None
    return storable_text(value, limit) or None


def mismatch(order: Order, report: PaymentReport) -> dict[str, str]:
    """What about ``report`` does not fit ``order`` (empty when it fits)."""
    problems = {}
    if report.razorpay_order_id != order.razorpay_order_id:
        problems["orderId"] = (f"payment is for {report.razorpay_order_id}, "
                               f"not {order.razorpay_order_id}")
    if report.amount != order.amount:
        problems["amount"] = f"payment is {report.amount}, order is {order.amount}"
    if report.currency != order.currency:
        problems["currency"] = f"payment is in {report.currency}, order in {order.currency}"
    return problems


def record_anomaly(session: Session, order: Order, note: str) -> None:
    note = note[:ANOMALY_MAX_LENGTH]
    log.warning("order %s: %s", order.id, note)
    write(session,
        sa.update(_orders).where(_orders.c.id == order.id).values(anomaly=note,
                                                                  updated_at=utcnow())
    )
    set_committed_value(order, "anomaly", note)


def _known(order: Order, **values: Any) -> None:
    """Set what an UPDATE of ours just wrote, without reading the row back."""
    for name, value in values.items():
        set_committed_value(order, name, value)


def _checked(session: Session, order: Order, report: PaymentReport,
             source: str) -> PaymentReport:
    problems = mismatch(order, report)
    if problems:
        note = (f"{source} reported payment {report.razorpay_payment_id} that does not "
                f"match: " + "; ".join(problems.values()))
        record_anomaly(session, order, note)
        raise PaymentMismatch(details=problems, order=order)
    return report


def _capture_is_ours(settings: dict, order: Order, report: PaymentReport) -> bool:
    """Manual capture, an authorized payment, and an order nobody has paid yet: an
    authorization for an order another payment already paid is left to lapse (Razorpay
    refunds it) rather than taking the customer's money twice."""
    return (settings["razorpay.capture"] == "manual"
            and report.status == "authorized" and order.status != "paid")


@implementer(IPaymentService)
class PaymentService:
    """The state machine, bound to what it needs: a session, the gateway (for manual
    capture), the ledger and the wallet (for fulfilment), the settings and an event
    sink. Built by ``payment_service_factory`` for a request or a job alike."""

    def __init__(self, session: Session, gateway: IPaymentGateway, ledger: ILedgerService,
                 wallet: IWalletService, settings: dict, events: EventSink):
        self.session = session
        self.gateway = gateway
        self.ledger = ledger
        self.wallet = wallet
        self.settings = settings
        self.events = events

    def apply_gateway_payment(self, order: Order, payment_entity: dict, *, source: str,
                              now: dt.datetime | None = None) -> Order:
        """Feed one trusted payment entity for ``order`` into the state machine.

        ``source`` says which door it came through: "verify", "webhook" or "reconcile".
        Returns ``order`` as it now stands in the database. Raises ``PaymentMismatch``
        (409) when the entity does not fit the order, after noting it on the order;
        ``MalformedPaymentEntity`` (400) when the entity is unusable; ``GatewayError``
        (502) when a capture that is ours to do fails.
        """
        if source not in SOURCES:
            raise ValueError(f"source must be one of {', '.join(SOURCES)}; got {source!r}")
        session = self.session
        report = _checked(session, order, PaymentReport.from_entity(payment_entity), source)
        if _capture_is_ours(self.settings, order, report):
            captured = PaymentReport.from_entity(self._capture(order, report))
            report = _checked(session, order, captured, source)

        now = now or utcnow()
        moved_to = _record_payment(session, order, report, now)
        won = attempted = False
        if report.money_captured:
            # The winner marks the order fulfilled in the same statement: the grant below
            # runs in the same transaction, so neither can be kept without the other.
            won = _move_order(session, order.id, "paid", now, paid_at=now, fulfilled_at=now)
            if not won:
                _note_second_capture(session, order, report)
        elif report.status in ("created", "authorized", "failed"):
            attempted = _move_order(session, order.id, "attempted", now)

        # The order's payments changed under it; its own row is known when this call
        # moved it, and is read again when someone else may have.
        session.expire(order, ["payments"])
        if won:
            _known(order, status="paid", paid_at=now, fulfilled_at=now, updated_at=now)
        elif attempted:
            _known(order, status="attempted", updated_at=now)
        else:
            session.refresh(order)
        if won:
            log.info("order %s paid by %s (%s)", order.id, report.razorpay_payment_id,
                     source)
            self.fulfil_order(order, now=now)
        elif moved_to == "failed" and order.status != "paid":
            payment = session.scalar(
                sa.select(Payment)
                .where(Payment.razorpay_payment_id == report.razorpay_payment_id)
            )
            self.events.emit(PaymentFailed(self.events.source, order, payment))
        return order

    def capture_if_ours(self, order: Order, payment_entity: dict) -> dict:
        """The payment entity to apply: captured now when capture is ours to do (see
        ``_capture_is_ours``) and the payment fits the order, else the one given.

        ``apply_gateway_payment`` does this itself, but inside the caller's transaction;
        a caller that must not hold that transaction's row locks across a gateway call
        (the reconcile job, which has already written the order in it) calls this
        first, outside any transaction, and then has nothing left to capture.
        """
        report = PaymentReport.from_entity(payment_entity)
        if mismatch(order, report) or not _capture_is_ours(self.settings, order, report):
            return payment_entity
        return self._capture(order, report)

    def _capture(self, order: Order, report: PaymentReport) -> dict:
        """Capture the payment; the captured payment entity."""
        try:
            entity = self.gateway.capture_payment(report.razorpay_payment_id, order.amount,
                                                  order.currency)
        except GatewayError:
            # Someone else may have captured it first (Razorpay refuses a second
            # capture); what the payment is now decides.
            entity = self.gateway.fetch_payment(report.razorpay_payment_id)
            if PaymentReport.from_entity(entity).status != "captured":
                raise
        log.info("captured %s for order %s", report.razorpay_payment_id, order.id)
        return entity

    def fulfil_order(self, order: Order, *, now: dt.datetime | None = None) -> None:
        """Deliver what ``order`` bought, once: called only by the winner of the move to
        paid.

        Grants go to the ledger under the reference ``order:<id>``, which the ledger can
        post only once; entitlements are granted from the source ``order:<id>``, which is
        also idempotent. A service order (no user, nothing to grant) is marked fulfilled
        all the same and announced with ``OrderPaid`` so its host app can react.
        ``fulfilled_at`` is usually set already, by the same UPDATE that moved the order
        to paid.
        """
        now = now or utcnow()
        if order.user_id and order.grants:
            self.ledger.grant(order.user_id, dict(order.grants),
                              reference=f"order:{order.id}",
                              description=f"Purchase of {order.title}")
        if order.user_id:
            for name in order.entitlements:
                self.wallet.grant_entitlement(order.user_id, name, f"order:{order.id}")
        if order.fulfilled_at is None:
            order.fulfilled_at = now
            self.session.flush()
        self.events.emit(OrderPaid(self.events.source, order))

    def mark_verified(self, order: Order, *, now: dt.datetime | None = None) -> Order:
        """The client's checkout signature checked out: ``created``/``attempted`` ->
        ``verified``. A paid (or expired) order is left as it is. Returns the order."""
        now = now or utcnow()
        _move_order(self.session, order.id, "verified", now, verified_at=now)
        self.session.refresh(order)
        return order

    def find_order(self, razorpay_order_id: str) -> Order | None:
        """Our order for a Razorpay order id, or None."""
        return self.session.scalar(
            sa.select(Order).where(Order.razorpay_order_id == razorpay_order_id)
            .options(lazyload(Order.payments))
        )


def payment_service_factory(context: Any, source: Any) -> PaymentService:
    """``source`` is a request or a ``banter_payments.jobs.Job``."""
    return PaymentService(
        source.dbsession, source.find_service(IPaymentGateway),
        source.find_service(ILedgerService), source.find_service(IWalletService),
        source.registry.settings, EventSink(source),
    )


def _record_payment(session: Session, order: Order, report: PaymentReport,
                    now: dt.datetime) -> str | None:
    """Insert or move the payment row; the status it moved to, or None."""
    status = report.status
    reached_authorization = status in ("authorized", "captured", "refunded")
    inserted = insert_unless_present(session, _payments, {
        "id": new_id("pmt"),
        "order_id": order.id,
        "razorpay_payment_id": report.razorpay_payment_id,
        "status": status,
        "method": report.method,
        "amount": report.amount,
        "currency": report.currency,
        "error_code": report.error_code,
        "error_description": report.error_description,
        "created_at": now,
        "updated_at": now,
        "authorized_at": now if reached_authorization else None,
        "captured_at": now if report.money_captured else None,
        "failed_at": now if status == "failed" else None,
    }, ["razorpay_payment_id"])
    if inserted:
        return status

    values: dict[str, Any] = {
        "status": status,
        "updated_at": now,
        "method": sa.func.coalesce(_payments.c.method, report.method),
    }
    if reached_authorization:
        values["authorized_at"] = sa.func.coalesce(_payments.c.authorized_at, now)
    if report.money_captured:
        values["captured_at"] = sa.func.coalesce(_payments.c.captured_at, now)
    if status == "failed":
        values.update(failed_at=now, error_code=report.error_code,
                      error_description=report.error_description)
    result = write(session,
        sa.update(_payments)
        .where(_payments.c.razorpay_payment_id == report.razorpay_payment_id,
               _payments.c.order_id == order.id,
               _payments.c.status.in_(sources("payment", status)))
        .values(**values)
    )
    return status if result.rowcount == 1 else None


_ORDER_MOVES: dict[tuple[str, tuple[str, ...]], sa.Update] = {}


def _order_move(to_status: str, columns: tuple[str, ...]) -> sa.Update:
    """``UPDATE orders SET status = :to, ... WHERE id = :id AND status IN (<sources>)``,
    built once per move (its WHERE comes from the transition table)."""
    statement = _ORDER_MOVES.get((to_status, columns))
    if statement is None:
        statement = (
            sa.update(_orders)
            .where(_orders.c.id == sa.bindparam("b_order_id"),
                   _orders.c.status.in_(sources("order", to_status)))
            .values(status=to_status, **{c: sa.bindparam(f"b_{c}") for c in columns})
        )
        _ORDER_MOVES[(to_status, columns)] = statement
    return statement


def _move_order(session: Session, order_id: str, to_status: str, now: dt.datetime,
                **values: Any) -> bool:
    """One conditional UPDATE along the order table; True for the caller that moved it."""
    values["updated_at"] = now
    columns = tuple(sorted(values))
    parameters = {f"b_{c}": values[c] for c in columns}
    result = write(session, _order_move(to_status, columns),
                   {"b_order_id": order_id, **parameters})
    return result.rowcount == 1


def _note_second_capture(session: Session, order: Order, report: PaymentReport) -> None:
    """Two captured payments for one order means the customer paid twice: fulfilment
    stays single, and an operator is told to refund the extra one."""
    captured = session.scalars(
        sa.select(_payments.c.razorpay_payment_id).where(
            _payments.c.order_id == order.id,
            _payments.c.status.in_(("captured", "refunded")),
            _payments.c.captured_at.is_not(None),
        ).order_by(_payments.c.captured_at, _payments.c.id)
    ).all()
    if len(captured) > 1 and report.razorpay_payment_id in captured[1:]:
        note = (f"payment {report.razorpay_payment_id} was captured for an order already "
                f"paid by {captured[0]}; refund it")
        if order.anomaly != note:
            record_anomaly(session, order, note)
