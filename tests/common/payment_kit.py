"""Test doubles and builders shared by the payments, webhooks and reconcile tests.

``FakeGateway`` implements ``IPaymentGateway`` in memory (thread-safe), so the state
machine can be driven with exact gateway answers, including failures; the sandbox-backed
tests cover the real SDK path. Import it (``from tests.common import payment_kit``) or
take the root conftest's ``kit`` fixture.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import hmac
import json
import threading
import time
from typing import Any

import sqlalchemy as sa
from pyramid.config import Configurator
from zope.interface import implementer

from banter_payments.clock import utcnow
from banter_payments.errors import GatewayError
from banter_payments.gateway.interfaces import IPaymentGateway
from banter_payments.ids import new_id
from banter_payments.ledger.models import Posting
from banter_payments.ledger.services import LedgerService
from banter_payments.orders.models import Order
from banter_payments.payments.models import Payment
from banter_payments.settings import SANDBOX_WEBHOOK_SECRET


def payment_entity(razorpay_order_id: str, *, pid: str | None = None,
                   status: str = "captured", amount: int = 44900, currency: str = "INR",
                   method: str = "upi", captured: bool | None = None,
                   created_at: int = 1_700_000_000, **extra: Any) -> dict[str, Any]:
    """A Razorpay payment entity, shaped as the API and webhooks carry it."""
    if captured is None:
        captured = status == "captured"
    entity = {
        "id": pid or new_id("pay"),
        "entity": "payment", "amount": amount, "currency": currency, "status": status,
        "order_id": razorpay_order_id, "invoice_id": None, "international": False,
        "method": method, "amount_refunded": 0, "refund_status": None,
        "captured": captured, "description": None, "card_id": None, "bank": None,
        "wallet": None, "vpa": "success@razorpay", "email": "a@example.com",
        "contact": "+919999999999", "notes": [], "fee": None, "tax": None,
        "error_code": "BAD_REQUEST_ERROR" if status == "failed" else None,
        "error_description": "Payment failed" if status == "failed" else None,
        "error_source": None, "error_step": None, "error_reason": None,
        "created_at": created_at,
    }
    entity.update(extra)
    return entity


def event_body(event: str, payment: dict | None = None, *, order: dict | None = None,
               refund: dict | None = None, extra_payload: dict | None = None) -> bytes:
    payload: dict[str, Any] = {}
    if payment is not None:
        payload["payment"] = {"entity": payment}
    if order is not None:
        payload["order"] = {"entity": order}
    if refund is not None:
        payload["refund"] = {"entity": refund}
    payload.update(extra_payload or {})
    envelope = {"entity": "event", "account_id": "acc_test", "event": event,
                "contains": list(payload), "payload": payload, "created_at": 1_700_000_100}
    return json.dumps(envelope, separators=(",", ":")).encode()


def sign(body: bytes, secret: str = SANDBOX_WEBHOOK_SECRET) -> str:
    return hmac.new(secret.encode(), body, hashlib.sha256).hexdigest()


def webhook_headers(body: bytes, event_id: str | None = None, *,
                    secret: str = SANDBOX_WEBHOOK_SECRET) -> dict[str, str]:
    headers = {"Content-Type": "application/json", "X-Razorpay-Signature": sign(body, secret)}
    if event_id is not None:
        headers["X-Razorpay-Event-Id"] = event_id
    return headers


@implementer(IPaymentGateway)
class FakeGateway:
    """Razorpay in a dict: payments keyed by id, and a log of every call."""

    key_id = "rzp_test_fake"

    def __init__(self) -> None:
        self.payments: dict[str, dict[str, Any]] = {}
        self.calls: list[tuple[str, str]] = []
        self.failing: set[str] = set()
        # Seconds each fetch of an order's payments takes (to widen race windows).
        self.delay = 0.0
        self._lock = threading.Lock()

    def __call__(self, context, request) -> FakeGateway:
        return self

    def add(self, entity: dict[str, Any]) -> dict[str, Any]:
        with self._lock:
            self.payments[entity["id"]] = dict(entity)
        return entity

    def _record(self, name: str, key: str) -> None:
        with self._lock:
            self.calls.append((name, key))
        if name in self.failing:
            raise GatewayError(f"Razorpay could not be reached to {name}.",
                               details={"reason": "unreachable"})

    def create_order(self, amount, currency, receipt, notes, payment_capture):
        self._record("create_order", receipt)
        return {"id": new_id("order"), "amount": amount,
                "currency": currency, "status": "created"}

    def fetch_order(self, razorpay_order_id):
        self._record("fetch_order", razorpay_order_id)
        return {"id": razorpay_order_id}

    def fetch_order_payments(self, razorpay_order_id):
        self._record("fetch_order_payments", razorpay_order_id)
        time.sleep(self.delay)
        with self._lock:
            return [dict(p) for p in self.payments.values()
                    if p["order_id"] == razorpay_order_id]

    def fetch_payment(self, razorpay_payment_id):
        self._record("fetch_payment", razorpay_payment_id)
        with self._lock:
            if razorpay_payment_id not in self.payments:
                raise GatewayError("Razorpay refused to fetch a payment: no such payment",
                                   details={"reason": "bad_request"})
            return dict(self.payments[razorpay_payment_id])

    def capture_payment(self, razorpay_payment_id, amount, currency):
        self._record("capture_payment", razorpay_payment_id)
        with self._lock:
            payment = self.payments[razorpay_payment_id]
            if payment["status"] != "authorized":
                raise GatewayError("Razorpay refused to capture a payment: This payment "
                                   "has already been captured",
                                   details={"reason": "bad_request"})
            payment.update(status="captured", captured=True)
            return dict(payment)

    def refund_payment(self, razorpay_payment_id, amount, idempotency_key, notes, receipt):
        raise GatewayError("refunds are not faked")

    def fetch_refund(self, razorpay_refund_id):
        raise GatewayError("refunds are not faked")

    def verify_payment_signature(self, razorpay_order_id, razorpay_payment_id, signature):
        return signature == "good"


def make_app(settings: dict[str, Any], gateway: FakeGateway | None = None,
             configure=None):
    """The real app, with ``gateway`` answering for ``IPaymentGateway`` when given, and
    ``configure(config)`` run after the core is included (as a host app would)."""
    with Configurator(settings=dict(settings)) as config:
        config.include("banter_payments")
        if gateway is not None:
            config.register_service_factory(gateway, IPaymentGateway)
        if configure is not None:
            configure(config)
    return config.make_wsgi_app()


def make_order(session, *, user_id: str | None = "alice", amount: int = 44900,
               currency: str = "INR", grants: dict | None = None,
               entitlements: list | None = None, status: str = "created",
               created_at: dt.datetime | None = None, title: str = "Popular Pack",
               sku: str | None = "coins.popular") -> Order:
    """An order as the order routes would have stored it, committed."""
    now = created_at or utcnow()
    order = Order(
        id=new_id("ord"), user_id=user_id, created_by=user_id or "svc", sku=sku,
        amount=amount, currency=currency, status=status,
        razorpay_order_id=new_id("order"),
        grants={"coins": 600} if grants is None else grants,
        entitlements=entitlements or [], title=title, created_at=now, updated_at=now,
    )
    if sku is None:
        order.source_app, order.external_ref = "jobs", new_id("job")
    session.add(order)
    session.commit()
    return order


def _read(session, query):
    """Run ``query(session)`` in a transaction of its own and end it at once: the test's
    session is a writer, and an open SQLite write transaction would block the app."""
    session.rollback()
    try:
        result = query(session)
        session.expunge_all()
        return result
    finally:
        session.rollback()


def postings(session, reference: str) -> int:
    return _read(session, lambda s: s.scalar(
        sa.select(sa.func.count()).select_from(Posting).where(Posting.reference == reference)))


def balance(session, user_id: str, asset: str = "coins") -> int:
    return _read(session, lambda s: LedgerService(s).balance(user_id, asset))


def payment_rows(session, order_id: str) -> list[Payment]:
    return _read(session, lambda s: list(s.scalars(
        sa.select(Payment).where(Payment.order_id == order_id)
        .order_by(Payment.created_at, Payment.id))))


def reload(session, order: Order) -> Order:
    return _read(session, lambda s: s.get(Order, order.id, populate_existing=True))


def deliveries(session) -> list:
    """Every stored webhook delivery, oldest first (detached rows)."""
    from banter_payments.webhooks.models import WebhookDelivery

    return _read(session, lambda s: list(s.scalars(
        sa.select(WebhookDelivery).order_by(WebhookDelivery.received_at, WebhookDelivery.id))))


def webhook_events(session) -> list:
    from banter_payments.webhooks.models import WebhookEvent

    return _read(session, lambda s: list(s.scalars(
        sa.select(WebhookEvent).order_by(WebhookEvent.created_at, WebhookEvent.id))))


def write_ini(path, settings: dict[str, Any]) -> str:
    """An ini file for a console script, carrying ``settings`` as the app's."""
    lines = ["[app:main]", "use = egg:banter-payments"]
    lines += [f"{name} = {value}" for name, value in settings.items()]
    path.write_text("\n".join(lines) + "\n")
    return str(path)
