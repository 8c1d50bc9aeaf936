"""``refund.created`` / ``refund.processed`` / ``refund.failed``: the webhook side.

Registered with ``config.add_webhook_handler`` after the core's payment handler (which
has already applied the event's payment entity). Events arrive in any order, more than
once, and possibly before the API answer that created the refund has been recorded, so
the refund is found by Razorpay's id, else by the ``refund_id`` note (or receipt) we sent
with it; the entity's own status then moves it forward (never back).

A refund we did not ask for is recorded too: one made in Razorpay's dashboard for the
payment that paid the order (it counts on the order and claws back like ours); one made
for another captured payment of the same order, a customer who paid twice (recorded with
a reason that says so; it does not apply to the order: nothing is counted or clawed back,
see ``services``); or Razorpay's automatic refund of an authorization that was never
captured (``automatic``: no money had moved, so nothing is clawed back and the order's
refunded amount does not change).
"""

from __future__ import annotations

from typing import Any

import sqlalchemy as sa
from pyramid.request import Request

from ..clock import utcnow
from ..db import insert_unless_present
from ..ids import new_id
from ..payments.models import Payment
from ..payments.services import RAZORPAY_ID
from ..webhooks.registry import IgnoreEvent, RejectEvent
from .interfaces import IRefundService
from .models import REFUND_STATUSES, Refund
from .services import captured_payment

REFUND_EVENTS = ("refund.created", "refund.processed", "refund.failed")


def _entity(event: dict[str, Any], name: str) -> dict[str, Any] | None:
    part = event["payload"].get(name)
    found = part.get("entity") if isinstance(part, dict) else None
    return found if isinstance(found, dict) else None


def _checked(entity: dict[str, Any] | None) -> dict[str, Any]:
    if entity is None:
        raise RejectEvent("The event carries no refund entity.",
                          {"payload.refund": "is required"})
    problems = {}
    for name in ("id", "payment_id"):
        value = entity.get(name)
        if not isinstance(value, str) or not RAZORPAY_ID.match(value):
            problems[name] = "must be a Razorpay id"
    amount = entity.get("amount")
    if isinstance(amount, bool) or not isinstance(amount, int) or amount <= 0:
        problems["amount"] = "must be a positive whole number of minor units"
    if entity.get("status") not in REFUND_STATUSES:
        problems["status"] = "must be pending, processed or failed"
    currency = entity.get("currency")
    if not isinstance(currency, str) or len(currency) != 3:
        problems["currency"] = "must be an ISO 4217 code"
    if problems:
        raise RejectEvent("The refund entity is malformed.", problems)
    return entity


def _ours(session, entity: dict[str, Any]) -> Refund | None:
    refund = session.scalar(sa.select(Refund).where(
        Refund.razorpay_refund_id == entity["id"]))
    if refund is not None:
        return refund
    notes = entity.get("notes") if isinstance(entity.get("notes"), dict) else {}
    for candidate in (notes.get("refund_id"), entity.get("receipt")):
        if isinstance(candidate, str) and candidate.startswith("rfd_"):
            refund = session.get(Refund, candidate)
            if refund is not None and refund.razorpay_payment_id == entity["payment_id"] \
                    and refund.razorpay_refund_id in (None, entity["id"]):
                return refund
    return None


def _learnt(request: Request, entity: dict[str, Any], payment_entity: dict | None) -> Refund:
    """A refund we did not make: record it (once, whichever event comes first)."""
    session = request.dbsession
    payment = session.scalar(sa.select(Payment).where(
        Payment.razorpay_payment_id == entity["payment_id"]))
    if payment is None:
        raise IgnoreEvent(f"no payment {entity['payment_id']} here")
    _check_fits(session, entity, payment)
    if payment_entity is not None:
        captured = payment_entity.get("captured") is True
    else:
        captured = payment.captured_at is not None
    reason = "refunded at the gateway"
    if not captured:
        reason = "automatic refund of an uncaptured payment"
    else:
        paying = captured_payment(session, payment.order_id)
        if paying is not None and paying.id != payment.id:
            reason = (f"refunded at the gateway: an extra payment of an order paid by "
                      f"{paying.razorpay_payment_id}; it does not count on the order")
    insert_unless_present(session, Refund.__table__, {
        "id": new_id("rfd"), "order_id": payment.order_id, "payment_id": payment.id,
        "razorpay_payment_id": payment.razorpay_payment_id,
        "razorpay_refund_id": entity["id"], "amount": entity["amount"],
        "currency": entity["currency"].upper(), "status": "pending",
        "reason": reason,
        "automatic": not captured, "created_by": None, "gateway_idempotency_key": None,
        "notes": {}, "clawed_back": {}, "shortfall": {}, "has_shortfall": False,
        "failure_reason": None,
        "created_at": utcnow(), "updated_at": utcnow(),
    }, ["razorpay_refund_id"])
    return session.scalar(sa.select(Refund).where(Refund.razorpay_refund_id == entity["id"]))


def _check_fits(session, entity: dict[str, Any], payment: Payment) -> None:
    """A refund must be in its payment's currency and within what is left of it; a
    signed event that says otherwise is refused (400) and recorded, never applied."""
    currency = entity["currency"].upper()
    if currency != payment.currency:
        raise RejectEvent("The refund is not in its payment's currency.",
                          {"currency": f"refund in {currency}, payment in {payment.currency}"})
    others = session.scalar(
        sa.select(sa.func.coalesce(sa.func.sum(Refund.amount), 0)).where(
            Refund.payment_id == payment.id, Refund.status != "failed",
            Refund.razorpay_refund_id.is_distinct_from(entity["id"]))
    )
    if entity["amount"] + int(others) > payment.amount:
        raise RejectEvent("The refund is larger than what is left of its payment.",
                          {"amount": f"refund {entity['amount']}, left "
                                     f"{payment.amount - int(others)}"})


def apply_refund_event(request: Request, event: dict[str, Any], delivery: Any) -> None:
    entity = _checked(_entity(event, "refund"))
    session = request.dbsession
    refund = _ours(session, entity)
    if refund is None:
        refund = _learnt(request, entity, _entity(event, "payment"))
    elif refund.amount != entity["amount"] or refund.currency != entity["currency"].upper():
        raise RejectEvent(f"The refund does not match refund {refund.id}.",
                          {"amount": f"event {entity['amount']}, ours {refund.amount}"})
    request.find_service(IRefundService).apply_refund_entity(refund, entity)
