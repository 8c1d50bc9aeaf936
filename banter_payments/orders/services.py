"""Creating, finding and showing orders.

An order is stored only after Razorpay (or the sandbox) has created its side: if the
gateway fails the client gets a 502 and nothing is written. The receipt sent to Razorpay
is our order id, so every Razorpay order points back at ours.
"""

from __future__ import annotations

from typing import Any

import sqlalchemy as sa
from pyramid.request import Request
from sqlalchemy.orm import Session, selectinload
from zope.interface import implementer

from ..catalog.registry import MINIMUM_AMOUNT, CatalogItem, catalog
from ..clock import isoformat
from ..cursors import decode_cursor, page
from ..db import lock_key
from ..errors import Conflict, NotFound, ValidationFailed
from ..gateway.interfaces import IPaymentGateway
from ..ids import new_id
from ..security import Identity
from .interfaces import IOrderQueries
from .models import OPEN_ORDER_STATUSES, Order


def _gateway(request: Request) -> IPaymentGateway:
    return request.find_service(IPaymentGateway)


def _create(request: Request, order: Order) -> Order:
    settings = request.registry.settings
    notes = {"order_id": order.id}
    if order.user_id:
        notes["user_id"] = order.user_id
    if order.sku:
        notes["sku"] = order.sku
    if order.external_ref:
        notes["external_ref"] = order.external_ref
    remote = _gateway(request).create_order(
        amount=order.amount, currency=order.currency, receipt=order.id, notes=notes,
        payment_capture=settings["razorpay.capture"] == "auto",
    )
    order.razorpay_order_id = str(remote["id"])
    request.dbsession.add(order)
    request.dbsession.flush()
    return order


def _catalog_order(item: CatalogItem, user_id: str, **extra: Any) -> Order:
    return Order(
        id=new_id("ord"), user_id=user_id, created_by=user_id, sku=item.sku,
        amount=item.amount, currency=item.currency, grants=dict(item.grants),
        entitlements=list(item.entitlements), title=item.name, **extra,
    )


def create_catalog_order(request: Request, identity: Identity, sku: str) -> Order:
    item = catalog(request.registry).get(sku)
    if item is None:
        raise ValidationFailed(details={"sku": f"unknown sku {sku!r}"})
    if item.kind == "subscription":  # recurring: sold only as a subscription
        raise ValidationFailed(details={"sku": f"{sku!r} is a subscription plan: "
                                               f"subscribe to it instead"})
    # A verified address from the token: the receipt's fallback recipient and Checkout's
    # prefill, when the host's user directory knows none.
    customer = {"email": identity.email} if identity.email else {}
    return _create(request, _catalog_order(item, identity.user_id, customer=customer))


def _check_amount(request: Request, amount: int, currency: str) -> None:
    """Refuse what Razorpay would refuse, as the client's error (400), not a 502."""
    accepted = request.registry.settings["banter_payments.currencies"]
    if currency not in accepted:
        raise ValidationFailed(details={"currency": f"must be one of {', '.join(accepted)}"})
    minimum = MINIMUM_AMOUNT.get(currency, 100)
    if amount < minimum:
        raise ValidationFailed(
            details={"amount": f"must be at least {minimum} ({currency} minor units)"})


def create_service_order(request: Request, identity: Identity, body: dict) -> Order:
    session = request.dbsession
    _check_amount(request, body["amount"], body["currency"])
    # Two concurrent requests for one object must not both pass the check below.
    lock_key(session, f"service-order:{body['sourceApp']}:{body['externalRef']}")
    open_order = session.scalar(
        sa.select(Order.id).where(
            Order.source_app == body["sourceApp"],
            Order.external_ref == body["externalRef"],
            # Open orders may still be paid; a new one for the same object is refused.
            Order.status.in_(OPEN_ORDER_STATUSES + ("paid",)),
        ).limit(1)
    )
    if open_order is not None:
        raise Conflict("An order for this externalRef is already open or paid.",
                       details={"orderId": open_order})
    order = Order(
        id=new_id("ord"), user_id=body["userId"], created_by=identity.user_id,
        source_app=body["sourceApp"], external_ref=body["externalRef"],
        amount=body["amount"], currency=body["currency"],
        title=body["description"] or f"{body['sourceApp']} {body['externalRef']}",
        metadata_=body.get("metadata", {}), customer=body.get("customer", {}),
    )
    return _create(request, order)


def retry_order(request: Request, identity: Identity, order: Order) -> Order:
    """A new order for the same thing after a failed or expired one."""
    if order.status == "paid":
        raise Conflict("A paid order cannot be retried.")
    if order.status != "expired" and not _last_attempt_failed(order):
        raise Conflict("Only an order whose payment failed, or that expired, can be retried.")
    lock_key(request.dbsession, f"retry:{order.id}")
    if request.dbsession.scalar(sa.select(Order.id).where(Order.retry_of_id == order.id)):
        raise Conflict("This order has been retried already; retry the newest one.")
    retry = Order(
        id=new_id("ord"), user_id=order.user_id, created_by=identity.user_id,
        sku=order.sku, source_app=order.source_app, external_ref=order.external_ref,
        amount=order.amount, currency=order.currency, grants=dict(order.grants),
        entitlements=list(order.entitlements), title=order.title,
        metadata_=dict(order.metadata_), customer=dict(order.customer),
        retry_of_id=order.id, attempt_count=order.attempt_count + 1,
    )
    return _create(request, retry)


def _last_attempt_failed(order: Order) -> bool:
    return bool(order.payments) and all(p.status == "failed" for p in order.payments)


def can_see(identity: Identity, order: Order) -> bool:
    """Owners see their orders; admins and the service that made an order see it too."""
    if identity.is_admin:
        return True
    if order.user_id == identity.user_id or order.created_by == identity.user_id:
        return True
    return False


def get_visible_order(request: Request, order_id: str) -> Order:
    order = request.dbsession.get(Order, order_id)
    if order is None or not can_see(request.identity, order):
        raise NotFound("No such order.")
    return order


def peek_order(request: Request, razorpay_order_id: str):
    """Who an order belongs to (``id``, ``user_id``, ``created_by``), read outside the
    request's transaction, for a view that must call the gateway before it writes."""
    _, reader = request.registry["banter_payments.session_factories"]
    with reader() as session:
        return session.execute(
            sa.select(Order.id, Order.user_id, Order.created_by)
            .where(Order.razorpay_order_id == razorpay_order_id)
        ).one_or_none()


def list_orders(session: Session, *, user_id: str, limit: int,
                cursor: str | None) -> tuple[list[Order], str | None]:
    """Newest first, keyset-paginated by id (ids are time-ordered)."""
    query = sa.select(Order).where(
        sa.or_(Order.user_id == user_id, Order.created_by == user_id)
    )
    if cursor:
        query = query.where(Order.id < decode_cursor(cursor, "ord"))
    query = query.options(selectinload(Order.payments))
    return page(list(session.scalars(query.order_by(Order.id.desc()).limit(limit + 1))),
                limit)


def checkout_options(request: Request, order: Order) -> dict[str, Any]:
    """Razorpay Checkout's options object, ready to hand to checkout.js as it is."""
    settings = request.registry.settings
    prefill = {key: order.customer[key] for key in ("name", "email", "contact")
               if order.customer.get(key)}
    return {
        "key": _gateway(request).key_id,
        "amount": order.amount,
        "currency": order.currency,
        "order_id": order.razorpay_order_id,
        "name": settings["banter_payments.checkout_name"],
        "description": order.title,
        "prefill": prefill,
        "notes": {"order_id": order.id},
    }


def payment_to_json(order: Order) -> dict[str, Any] | None:
    payment = order.latest_payment
    if payment is None:
        return None
    return {
        "razorpayPaymentId": payment.razorpay_payment_id,
        "status": payment.status,
        "method": payment.method,
        "amount": payment.amount,
        "currency": payment.currency,
        "errorCode": payment.error_code,
        "errorDescription": payment.error_description,
    }


def order_to_json(request: Request, order: Order, *, checkout: bool = False) -> dict[str, Any]:
    data: dict[str, Any] = {
        "id": order.id,
        "sku": order.sku,
        "userId": order.user_id,
        "title": order.title,
        "status": order.status,
        "isConfirmed": order.is_confirmed,
        "amount": order.amount,
        "currency": order.currency,
        "razorpayOrderId": order.razorpay_order_id,
        "payment": payment_to_json(order),
        "grants": dict(order.grants),
        "entitlements": list(order.entitlements),
        "refundedAmount": order.refunded_amount,
        "refundStatus": order.refund_status,
        "retryOf": order.retry_of_id,
        "attemptCount": order.attempt_count,
        "createdAt": isoformat(order.created_at),
        "paidAt": isoformat(order.paid_at),
    }
    if order.source_app:
        data.update(sourceApp=order.source_app, externalRef=order.external_ref,
                    metadata=dict(order.metadata_))
    identity = request.identity
    if identity is not None and identity.is_admin:
        # What the state machine refused to fulfil (a payment for another amount, a
        # second capture to refund): for operators, not for customers.
        data["anomaly"] = order.anomaly
    if checkout:
        data["checkout"] = checkout_options(request, order)
    return data


@implementer(IOrderQueries)
class OrderQueries:
    def __init__(self, session: Session):
        self.session = session

    def paid_totals(self, user_id: str, sku_prefix: str) -> list[tuple[str, int, int]]:
        rows = self.session.execute(
            sa.select(Order.currency, sa.func.count(),
                      sa.func.sum(Order.amount - Order.refunded_amount))
            .where(Order.user_id == user_id, Order.status == "paid",
                   Order.sku.startswith(sku_prefix, autoescape=True))
            .group_by(Order.currency).order_by(Order.currency)
        ).all()
        # int(): PostgreSQL sums bigints into a numeric.
        return [(currency, int(count), int(amount)) for currency, count, amount in rows]


def order_queries_factory(context: Any, source: Any) -> OrderQueries:
    """``source`` is a request or a ``banter_payments.jobs.Job``."""
    return OrderQueries(source.dbsession)
