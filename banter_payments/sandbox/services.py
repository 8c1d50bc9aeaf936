"""The emulator's state machine: what Razorpay does to orders, payments and refunds.

Each operation is one short transaction that locks the row it changes (``FOR UPDATE`` on
PostgreSQL; on SQLite every write transaction begins ``IMMEDIATE`` and so runs alone),
changes it, and writes the webhooks the change raises into the outbox, so concurrent
refunds can never exceed what was captured and an event exists exactly when its cause
does. Operations take the decoded JSON body and validate it themselves, so tests can call
them without HTTP.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import hmac
import json
import secrets
from collections.abc import Callable, Mapping
from typing import Any

from sqlalchemy import Engine, Select, exists, select
from sqlalchemy.orm import Session

from banter_payments.clock import utcnow
from banter_payments.db import locked, make_engine, session_factories

from .config import SandboxConfig
from .entities import (
    PAYMENT_EXPANSIONS,
    card_entity,
    collection,
    customer_entity,
    order_entity,
    payment_entity,
    refund_entity,
)
from .errors import RazorpayError, not_found
from .faults import FaultPlan, Faults
from .ids import razorpay_id
from .models import SandboxCard, SandboxCustomer, SandboxOrder, SandboxPayment, SandboxRefund
from .validation import (
    amount,
    choice,
    collection_query,
    contact,
    currency,
    email,
    flag,
    minimum_order_amount,
    notes,
    optional,
    parse_object,
    text,
)
from .webhooks import RaisedEvent, SeededRandom, enqueue

ORDER_FIELDS = {
    "amount": amount(1),
    "currency": currency,
    "receipt": text(40),
    "notes": notes,
    "payment_capture": flag,
}
CAPTURE_FIELDS = {"amount": amount(1), "currency": currency}
REFUND_FIELDS = {
    "amount": amount(1),
    "speed": choice("normal", "optimum"),
    "notes": notes,
    "receipt": text(40),
}
NOTES_ONLY = {"notes": notes}
CUSTOMER_FIELDS = {
    "name": text(50),
    "email": optional(email),
    "contact": optional(contact),
    "gstin": text(15),
    "notes": notes,
    "fail_existing": flag,
}
CUSTOMER_EDIT_FIELDS = {name: v for name, v in CUSTOMER_FIELDS.items() if name != "fail_existing"}
ORDER_FILTERS = {"authorized": flag, "receipt": text(40)}
CHECKOUT_FIELDS = {
    "outcome": choice("success", "failure"),
    "method": choice("card", "upi", "netbanking", "wallet"),
}
# Razorpay's test card 4111 1111 1111 1111, as its card entity describes it: the card of
# a card payment made without the browser Checkout (which passes the card typed).
TEST_CARD = {
    "name": "Sandbox Customer",
    "last4": "1111",
    "network": "Visa",
    "type": "credit",
    "issuer": None,
    "international": False,
    "emi": False,
}
CARD_FIELDS = frozenset(TEST_CARD)
# Payment fields the browser Checkout fills from what the customer entered.
PAYMENT_DETAILS = frozenset(
    {"bank", "wallet", "vpa", "email", "contact", "notes", "description"}
)


def _digits(count: int) -> str:
    return "".join(str(secrets.randbelow(10)) for _ in range(count))


def _method_details(method: str, success: bool) -> dict[str, Any]:
    """The method's own fields and the bank's references (``acquirer_data``)."""
    if method == "card":
        return {"acquirer_data": {"auth_code": _digits(6) if success else None}}
    if method == "upi":
        return {"vpa": "success@razorpay" if success else "failure@razorpay",
                "acquirer_data": {"rrn": _digits(12), "upi_transaction_id": _digits(20)}}
    if method == "netbanking":
        return {"bank": "HDFC", "acquirer_data": {"bank_transaction_id": _digits(7)}}
    return {"wallet": "paytm", "acquirer_data": {"transaction_id": None}}

IDEMPOTENCY_HEADER = "X-Refund-Idempotency"
MIN_IDEMPOTENCY_KEY = 10
MAX_IDEMPOTENCY_KEY = 255
# Razorpay's fee is a percentage plus GST on it, both reported in minor units.
FEE_PERCENT = 2
TAX_PERCENT = 18
FAILURE_DESCRIPTION = (
    "Your payment didn't go through as it was declined by the bank. "
    "Try another payment method or contact your bank."
)
# A refund with this note settles as failed, so tests can exercise refund.failed.
OUTCOME_NOTE = "sandbox_outcome"


def checkout_signature(order_id: str, payment_id: str, key_secret: str) -> str:
    """What Razorpay Checkout hands the client: HMAC-SHA256 of ``order_id|payment_id``."""
    message = f"{order_id}|{payment_id}".encode()
    return hmac.new(key_secret.encode("utf-8"), message, hashlib.sha256).hexdigest()


def _nothing() -> None:
    return None


class SandboxService:
    """The emulator's state, its database and its random source."""

    def __init__(self, config: SandboxConfig, engine: Engine | None = None) -> None:
        self.config = config
        self.engine = engine or make_engine(
            config.database_url, sqlite_busy_timeout_ms=config.sqlite_busy_timeout_ms
        )
        self.writer, self.reader = session_factories(self.engine)
        self.random = SeededRandom(config.random_seed)
        # No faults until the emulator installs the configured plan.
        self.faults = Faults(FaultPlan(), self.random.random)
        # Called after a transaction that queued webhooks commits; the emulator points
        # it at its delivery worker.
        self.on_enqueue: Callable[[], None] = _nothing

    def close(self) -> None:
        self.engine.dispose()

    # Orders

    def create_order(self, data: Any) -> dict[str, Any]:
        body = parse_object(data, ORDER_FIELDS, required=("amount", "currency"))
        minimum_order_amount(body["currency"], body["amount"])
        order = SandboxOrder(
            id=razorpay_id("order"),
            amount=body["amount"],
            amount_paid=0,
            currency=body["currency"],
            receipt=body.get("receipt"),
            notes=body.get("notes", {}),
            auto_capture=body.get("payment_capture", True),
            status="created",
            attempts=0,
            created_at=utcnow(),
        )
        with self.writer() as session, session.begin():
            session.add(order)
            return order_entity(order)

    def get_order(self, order_id: str) -> dict[str, Any]:
        with self.reader() as session, session.begin():
            return order_entity(_get(session, SandboxOrder, order_id))

    def order_payments(self, order_id: str, expand: list[str] | None = None) -> dict[str, Any]:
        expand = _expansions(expand, PAYMENT_EXPANSIONS)
        with self.reader() as session, session.begin():
            _get(session, SandboxOrder, order_id)
            payments = session.scalars(
                select(SandboxPayment)
                .where(SandboxPayment.order_id == order_id)
                .order_by(SandboxPayment.created_at.desc(), SandboxPayment.id.desc())
            )
            return collection(payment_entity(p, expand) for p in payments)

    def list_orders(self, query: Any, expand: list[str] | None = None) -> dict[str, Any]:
        """``GET /v1/orders``: newest first; ``expand[]=payments`` (and ``payments.card``)
        nests each order's payments."""
        expand = _expansions(expand, {"payments", "payments.card"})
        params = collection_query(query, ORDER_FILTERS)
        statement = select(SandboxOrder)
        if "receipt" in params:
            statement = statement.where(SandboxOrder.receipt == params["receipt"])
        if "authorized" in params:
            paid_somehow = exists().where(
                SandboxPayment.order_id == SandboxOrder.id,
                SandboxPayment.status.in_(("authorized", "captured", "refunded")),
            )
            statement = statement.where(paid_somehow if params["authorized"] else ~paid_somehow)
        with self.reader() as session, session.begin():
            orders = _page(session, statement, SandboxOrder, params)
            items = []
            for order in orders:
                entity = order_entity(order)
                if expand:
                    payments = session.scalars(
                        select(SandboxPayment)
                        .where(SandboxPayment.order_id == order.id)
                        .order_by(SandboxPayment.created_at.desc(), SandboxPayment.id.desc())
                    )
                    nested = {"card"} if "payments.card" in expand else set()
                    entity["payments"] = collection(payment_entity(p, nested) for p in payments)
                items.append(entity)
            return collection(items)

    def edit_order(self, order_id: str, data: Any) -> dict[str, Any]:
        """``PATCH /v1/orders/{id}``: only the notes can change; they are replaced."""
        body = parse_object(data, NOTES_ONLY, required=("notes",))
        with self.writer() as session, session.begin():
            order = _get(session, SandboxOrder, order_id, lock=True)
            order.notes = body["notes"]
            return order_entity(order)

    # Payments

    def get_payment(self, payment_id: str, expand: list[str] | None = None) -> dict[str, Any]:
        expand = _expansions(expand, PAYMENT_EXPANSIONS)
        with self.reader() as session, session.begin():
            return payment_entity(_get(session, SandboxPayment, payment_id), expand)

    def list_payments(self, query: Any, expand: list[str] | None = None) -> dict[str, Any]:
        expand = _expansions(expand, PAYMENT_EXPANSIONS)
        params = collection_query(query)
        with self.reader() as session, session.begin():
            payments = _page(session, select(SandboxPayment), SandboxPayment, params)
            return collection(payment_entity(p, expand) for p in payments)

    def edit_payment(self, payment_id: str, data: Any) -> dict[str, Any]:
        """``PATCH /v1/payments/{id}``: only the notes can change; they are replaced."""
        body = parse_object(data, NOTES_ONLY, required=("notes",))
        with self.writer() as session, session.begin():
            payment = _get(session, SandboxPayment, payment_id, lock=True)
            payment.notes = body["notes"]
            return payment_entity(payment)

    def payment_card(self, payment_id: str) -> dict[str, Any]:
        """``GET /v1/payments/{id}/card``: the card of a card payment."""
        with self.reader() as session, session.begin():
            payment = _get(session, SandboxPayment, payment_id)
            if payment.card is None:
                raise RazorpayError("The payment was not made using a card")
            return card_entity(payment.card)

    def get_card(self, card_id: str) -> dict[str, Any]:
        """``GET /v1/cards/{id}``: the same card entity, by its own id."""
        with self.reader() as session, session.begin():
            return card_entity(_get(session, SandboxCard, card_id))

    def pay(
        self,
        order_id: str,
        data: Any,
        *,
        notify_url: str,
        details: Mapping[str, Any] | None = None,
        card: Mapping[str, Any] | None = None,
    ) -> dict[str, Any]:
        """The customer at Razorpay Checkout: what the checkout hands back to the client.

        ``details`` are what the customer entered (``PAYMENT_DETAILS``: the VPA, the bank,
        the wallet, email and contact, the checkout's notes) and ``card`` the card typed
        (``CARD_FIELDS``), from the browser Checkout; without them the method's sample
        values are used, and a card payment is made with ``TEST_CARD``. The card entity
        is written in the payment's transaction, so no card exists without its payment.
        """
        body = parse_object(data, CHECKOUT_FIELDS)
        success = body.get("outcome", "success") == "success"
        method = body.get("method", "card")
        unknown = set(details or {}) - PAYMENT_DETAILS
        if unknown:
            raise ValueError(f"unknown payment details: {', '.join(sorted(unknown))}")
        if card is not None and method != "card":
            raise ValueError(f"a card was given for a {method} payment")
        unknown = set(card or {}) - CARD_FIELDS
        if unknown:
            raise ValueError(f"unknown card fields: {', '.join(sorted(unknown))}")
        card_fields = {**TEST_CARD, **(card or {})} if method == "card" else None
        now = utcnow()
        with self.writer() as session, session.begin():
            order = _get(session, SandboxOrder, order_id, lock=True)
            if order.status == "paid":
                raise RazorpayError("Order has already been paid", field="order_id")
            order.attempts += 1
            order.status = "attempted"
            payment = _new_payment(order, method, success, now, notify_url)
            for name, value in (details or {}).items():
                setattr(payment, name, value)
            if card_fields is not None:
                # The id is set here, not at flush, so the webhooks raised below carry it.
                payment.card = SandboxCard(id=razorpay_id("card"), created_at=now,
                                           **card_fields)
                payment.card_id = payment.card.id
            session.add(payment)
            if success:
                events = [RaisedEvent("payment.authorized", {"payment": payment_entity(payment)})]
                # Razorpay captures a moment after authorizing; capture_due does it later
                # when sandbox.capture_delay says how long that moment is.
                if order.auto_capture and self.config.capture_delay <= 0:
                    events += _capture(order, payment, now)
            else:
                events = [RaisedEvent("payment.failed", {"payment": payment_entity(payment)})]
            self._enqueue(session, events, notify_url, now)
        self.on_enqueue()
        if success:
            return {
                "razorpay_payment_id": payment.id,
                "razorpay_order_id": order.id,
                "razorpay_signature": checkout_signature(
                    order.id, payment.id, self.config.key_secret
                ),
            }
        return {
            "error": {
                "code": payment.error_code,
                "description": payment.error_description,
                "source": payment.error_source,
                "step": payment.error_step,
                "reason": payment.error_reason,
                "metadata": {"payment_id": payment.id, "order_id": order.id},
            }
        }

    def capture(self, payment_id: str, data: Any, *, notify_url: str) -> dict[str, Any]:
        body = parse_object(data, CAPTURE_FIELDS, required=("amount", "currency"))
        now = utcnow()
        with self.writer() as session, session.begin():
            payment = _get(session, SandboxPayment, payment_id, lock=True)
            if payment.captured:
                raise RazorpayError("This payment has already been captured")
            if payment.status != "authorized":
                raise RazorpayError(
                    "Only payments which have been authorized and not yet captured can be captured"
                )
            if body["amount"] != payment.amount:
                raise RazorpayError(
                    "Capture amount must be equal to the amount authorized", field="amount"
                )
            if body["currency"] != payment.currency:
                raise RazorpayError(
                    "The currency should be the same as the payment currency", field="currency"
                )
            order = _get(session, SandboxOrder, payment.order_id, lock=True)
            events = _capture(order, payment, now)
            self._enqueue(session, events, notify_url, now)
            entity = payment_entity(payment)
        self.on_enqueue()
        return entity

    def late_authorize(self, payment_id: str, *, notify_url: str) -> dict[str, Any]:
        """The bank confirms a payment Razorpay had reported failed."""
        now = utcnow()
        with self.writer() as session, session.begin():
            payment = _get(session, SandboxPayment, payment_id, lock=True)
            if payment.status != "failed":
                raise RazorpayError("Only a failed payment can be authorized late")
            payment.status = "authorized"
            payment.error_code = payment.error_description = payment.error_source = None
            payment.error_step = payment.error_reason = None
            events = [RaisedEvent("payment.authorized", {"payment": payment_entity(payment)})]
            target = self.config.webhook_url or payment.notify_url or notify_url
            self._enqueue(session, events, target, now)
            entity = payment_entity(payment)
        self.on_enqueue()
        return entity

    def capture_due(self, *, now: dt.datetime | None = None, everything: bool = False) -> int:
        """Capture authorized payments of auto-capture orders once ``capture_delay`` has
        passed since they were authorized; return how many. ``everything`` captures
        them all now, for tests that fast-forward. With no delay ``pay`` captured at
        once, and an authorization that came some other way (a late one) is left alone."""
        if self.config.capture_delay <= 0:
            return 0
        now = now or utcnow()
        query = (
            select(SandboxPayment.id)
            .join(SandboxOrder, SandboxOrder.id == SandboxPayment.order_id)
            .where(SandboxPayment.status == "authorized", SandboxOrder.auto_capture.is_(True))
        )
        if not everything:
            cutoff = now - dt.timedelta(seconds=self.config.capture_delay)
            query = query.where(SandboxPayment.created_at <= cutoff)
        with self.reader() as session, session.begin():
            payment_ids = list(session.scalars(query.order_by(SandboxPayment.id)))
        captured = 0
        for payment_id in payment_ids:
            with self.writer() as session, session.begin():
                payment = _get(session, SandboxPayment, payment_id, lock=True)
                if payment.status != "authorized":
                    continue
                order = _get(session, SandboxOrder, payment.order_id, lock=True)
                events = _capture(order, payment, now)
                target = self.config.webhook_url or payment.notify_url
                if target:
                    self._enqueue(session, events, target, now)
                captured += 1
        if captured:
            self.on_enqueue()
        return captured

    # Refunds

    def refund(
        self,
        payment_id: str,
        data: Any,
        *,
        idempotency_key: str | None,
        notify_url: str,
    ) -> dict[str, Any]:
        body = parse_object(data, REFUND_FIELDS)
        if idempotency_key is not None and not (
            MIN_IDEMPOTENCY_KEY <= len(idempotency_key) <= MAX_IDEMPOTENCY_KEY
        ):
            raise RazorpayError(
                f"The {IDEMPOTENCY_HEADER} header must be between {MIN_IDEMPOTENCY_KEY} and "
                f"{MAX_IDEMPOTENCY_KEY} characters",
                field=IDEMPOTENCY_HEADER,
            )
        request_hash = hashlib.sha256(
            json.dumps(body, sort_keys=True, separators=(",", ":")).encode("utf-8")
        ).hexdigest()
        now = utcnow()
        with self.writer() as session, session.begin():
            payment = _get(session, SandboxPayment, payment_id, lock=True)
            if idempotency_key is not None:
                first = session.scalars(
                    select(SandboxRefund).where(
                        SandboxRefund.payment_id == payment.id,
                        SandboxRefund.idempotency_key == idempotency_key,
                    )
                ).one_or_none()
                if first is not None:
                    if first.request_hash != request_hash:
                        raise RazorpayError(
                            "The idempotency key was already used with a different request",
                            field=IDEMPOTENCY_HEADER,
                        )
                    return refund_entity(first)
            if payment.status == "refunded":
                raise RazorpayError("The payment has been fully refunded already")
            if payment.status != "captured":
                raise RazorpayError("Only captured payments can be refunded")
            remaining = payment.amount - payment.amount_refunded
            refund_amount = body.get("amount", remaining)
            if refund_amount > remaining:
                raise RazorpayError(
                    "The total refund amount is greater than the refund payment amount",
                    field="amount",
                )
            refund_notes = body.get("notes", {})
            pending = self.config.refund_status == "pending"
            refund = SandboxRefund(
                id=razorpay_id("rfnd"),
                payment_id=payment.id,
                amount=refund_amount,
                currency=payment.currency,
                notes=refund_notes,
                receipt=body.get("receipt"),
                arn=None,
                status="pending",
                outcome="failed" if refund_notes.get(OUTCOME_NOTE) == "failed" else "processed",
                speed_requested=body.get("speed", "normal"),
                speed_processed=None,
                idempotency_key=idempotency_key,
                request_hash=request_hash,
                notify_url=notify_url,
                settle_at=now + dt.timedelta(seconds=self.config.refund_delay) if pending else None,
                created_at=now,
            )
            session.add(refund)
            payment.amount_refunded += refund_amount
            _update_refund_totals(payment)
            events = [
                RaisedEvent(
                    "refund.created",
                    {"refund": refund_entity(refund), "payment": payment_entity(payment)},
                )
            ]
            if not pending:
                events += _settle(refund, payment)
            self._enqueue(session, events, notify_url, now)
            entity = refund_entity(refund)
        self.on_enqueue()
        return entity

    def get_refund(self, refund_id: str) -> dict[str, Any]:
        with self.reader() as session, session.begin():
            return refund_entity(_get(session, SandboxRefund, refund_id))

    def payment_refunds(self, payment_id: str, query: Any = None) -> dict[str, Any]:
        params = collection_query(query or {})
        with self.reader() as session, session.begin():
            _get(session, SandboxPayment, payment_id)
            statement = select(SandboxRefund).where(SandboxRefund.payment_id == payment_id)
            refunds = _page(session, statement, SandboxRefund, params)
            return collection(refund_entity(r) for r in refunds)

    def payment_refund(self, payment_id: str, refund_id: str) -> dict[str, Any]:
        """``GET /v1/payments/{id}/refunds/{rid}``: a refund of that payment only."""
        with self.reader() as session, session.begin():
            _get(session, SandboxPayment, payment_id)
            refund = _get(session, SandboxRefund, refund_id)
            if refund.payment_id != payment_id:
                raise not_found()
            return refund_entity(refund)

    def list_refunds(self, query: Any) -> dict[str, Any]:
        params = collection_query(query)
        with self.reader() as session, session.begin():
            refunds = _page(session, select(SandboxRefund), SandboxRefund, params)
            return collection(refund_entity(r) for r in refunds)

    def create_refund(
        self, data: Any, *, idempotency_key: str | None, notify_url: str
    ) -> dict[str, Any]:
        """``POST /v1/refunds``: a refund naming its payment in the body."""
        if not isinstance(data, dict):
            raise RazorpayError("The request body should be a JSON object")
        body = dict(data)
        payment_id = body.pop("payment_id", None)
        if payment_id is None:
            raise RazorpayError("The payment id field is required.", field="payment_id")
        return self.refund(payment_id, body, idempotency_key=idempotency_key,
                           notify_url=notify_url)

    def edit_refund(self, refund_id: str, data: Any) -> dict[str, Any]:
        """``PATCH /v1/refunds/{id}``: only the notes can change; they are replaced."""
        body = parse_object(data, NOTES_ONLY, required=("notes",))
        with self.writer() as session, session.begin():
            refund = _get(session, SandboxRefund, refund_id, lock=True)
            refund.notes = body["notes"]
            return refund_entity(refund)

    # Customers

    def create_customer(self, data: Any) -> dict[str, Any]:
        """``POST /v1/customers``. With ``fail_existing`` 1 (the default) a customer with
        the same email and contact is refused; with 0 that customer is returned."""
        body = parse_object(data, CUSTOMER_FIELDS, required=("name",))
        _customer_name(body["name"])
        fail_existing = body.pop("fail_existing", True)
        with self.writer() as session, session.begin():
            existing = None
            if body.get("email") is not None or body.get("contact") is not None:
                existing = session.scalars(
                    select(SandboxCustomer)
                    .where(SandboxCustomer.email.is_(None) if body.get("email") is None
                           else SandboxCustomer.email == body["email"],
                           SandboxCustomer.contact.is_(None) if body.get("contact") is None
                           else SandboxCustomer.contact == body["contact"])
                    .order_by(SandboxCustomer.created_at, SandboxCustomer.id)
                    .limit(1)
                ).first()
            if existing is not None:
                if fail_existing:
                    raise RazorpayError("Customer already exists for the merchant")
                return customer_entity(existing)
            customer = SandboxCustomer(
                id=razorpay_id("cust"),
                name=body["name"],
                email=body.get("email"),
                contact=body.get("contact"),
                gstin=body.get("gstin"),
                notes=body.get("notes", {}),
                created_at=utcnow(),
            )
            session.add(customer)
            return customer_entity(customer)

    def get_customer(self, customer_id: str) -> dict[str, Any]:
        with self.reader() as session, session.begin():
            return customer_entity(_get(session, SandboxCustomer, customer_id))

    def edit_customer(self, customer_id: str, data: Any) -> dict[str, Any]:
        """``PUT /v1/customers/{id}``: the fields given change, the others stay."""
        body = parse_object(data, CUSTOMER_EDIT_FIELDS)
        if "name" in body:
            _customer_name(body["name"])
        with self.writer() as session, session.begin():
            customer = _get(session, SandboxCustomer, customer_id, lock=True)
            for name, value in body.items():
                setattr(customer, name, value)
            return customer_entity(customer)

    def list_customers(self, query: Any) -> dict[str, Any]:
        params = collection_query(query)
        with self.reader() as session, session.begin():
            customers = _page(session, select(SandboxCustomer), SandboxCustomer, params)
            return collection(customer_entity(c) for c in customers)

    def settle_refunds(self, *, now: dt.datetime | None = None, everything: bool = False) -> int:
        """Move pending refunds whose time has come to their outcome; return how many.

        ``everything`` settles every pending refund at once, for tests that fast-forward.
        """
        now = now or utcnow()
        query = select(SandboxRefund.id).where(SandboxRefund.status == "pending")
        if not everything:
            query = query.where(SandboxRefund.settle_at <= now)
        with self.reader() as session, session.begin():
            refund_ids = list(session.scalars(query.order_by(SandboxRefund.id)))
        settled = 0
        for refund_id in refund_ids:
            with self.writer() as session, session.begin():
                payment_id = session.scalar(
                    select(SandboxRefund.payment_id).where(SandboxRefund.id == refund_id)
                )
                payment = _get(session, SandboxPayment, payment_id, lock=True)
                refund = _get(session, SandboxRefund, refund_id, lock=True)
                if refund.status != "pending":
                    continue
                events = _settle(refund, payment)
                target = self.config.webhook_url or refund.notify_url or payment.notify_url
                if target:
                    self._enqueue(session, events, target, now)
                settled += 1
        if settled:
            self.on_enqueue()
        return settled

    def _enqueue(
        self, session: Session, events: list[RaisedEvent], target_url: str, now: dt.datetime
    ) -> None:
        enqueue(session, self.config, self.random, events, target_url=target_url, now=now)


def _get(session: Session, model: type, entity_id: str, *, lock: bool = False) -> Any:
    if not isinstance(entity_id, str):
        raise not_found()
    query = select(model).where(model.id == entity_id)
    if lock:
        query = locked(query)
    row = session.scalars(query).one_or_none()
    if row is None:
        raise not_found()
    return row


def _expansions(expand: list[str] | None, allowed: set[str] | frozenset[str]) -> set[str]:
    unknown = [name for name in expand or () if name not in allowed]
    if unknown:
        raise RazorpayError(f"{unknown[0]} is not a valid expand value", field="expand")
    return set(expand or ())


def _page(session: Session, statement: Select, model: type, params: dict[str, Any]) -> list:
    """One page of a collection, newest first, as Razorpay pages: ``from``/``to`` bound
    ``created_at`` (unix seconds, both inclusive), ``skip`` then ``count``."""
    if "from" in params:
        statement = statement.where(
            model.created_at >= dt.datetime.fromtimestamp(params["from"], dt.UTC))
    if "to" in params:
        statement = statement.where(
            model.created_at < dt.datetime.fromtimestamp(params["to"] + 1, dt.UTC))
    statement = (statement.order_by(model.created_at.desc(), model.id.desc())
                 .offset(params["skip"]).limit(params["count"]))
    return list(session.scalars(statement))


def _customer_name(name: str) -> None:
    if len(name) < 3:
        raise RazorpayError("The name must be at least 3 characters.", field="name")


def _new_payment(
    order: SandboxOrder, method: str, success: bool, now: dt.datetime, notify_url: str
) -> SandboxPayment:
    details: dict[str, Any] = {"card_id": None, "bank": None, "wallet": None, "vpa": None}
    details.update(_method_details(method, success))
    payment = SandboxPayment(
        id=razorpay_id("pay"),
        order_id=order.id,
        amount=order.amount,
        currency=order.currency,
        status="authorized" if success else "failed",
        method=method,
        captured=False,
        amount_refunded=0,
        refund_status=None,
        description=None,
        email="customer@example.com",
        contact="+919000090000",
        notes={},
        fee=None,
        tax=None,
        error_code=None,
        error_description=None,
        error_source=None,
        error_step=None,
        error_reason=None,
        notify_url=notify_url,
        created_at=now,
        captured_at=None,
        **details,
    )
    if not success:
        payment.error_code = "BAD_REQUEST_ERROR"
        payment.error_description = FAILURE_DESCRIPTION
        payment.error_source = "customer"
        payment.error_step = "payment_authentication"
        payment.error_reason = "payment_failed"
    return payment


def _capture(order: SandboxOrder, payment: SandboxPayment, now: dt.datetime) -> list[RaisedEvent]:
    """Capture an authorized payment; the order is paid by its first captured payment."""
    fee = payment.amount * FEE_PERCENT // 100
    tax = fee * TAX_PERCENT // 100
    payment.status = "captured"
    payment.captured = True
    payment.captured_at = now
    payment.fee = fee + tax
    payment.tax = tax
    events = [RaisedEvent("payment.captured", {"payment": payment_entity(payment)})]
    if order.status != "paid":
        order.status = "paid"
        order.amount_paid = order.amount
        events.append(
            RaisedEvent(
                "order.paid",
                {"payment": payment_entity(payment), "order": order_entity(order)},
            )
        )
    return events


def _update_refund_totals(payment: SandboxPayment) -> None:
    if payment.amount_refunded == 0:
        payment.refund_status = None
    elif payment.amount_refunded < payment.amount:
        payment.refund_status = "partial"
    else:
        payment.refund_status = "full"
    payment.status = "refunded" if payment.refund_status == "full" else "captured"


def _settle(refund: SandboxRefund, payment: SandboxPayment) -> list[RaisedEvent]:
    """A pending refund reaches its outcome; a failed one gives the amount back."""
    if refund.outcome == "failed":
        refund.status = "failed"
        payment.amount_refunded -= refund.amount
        _update_refund_totals(payment)
    else:
        refund.status = "processed"
        refund.speed_processed = "instant" if refund.speed_requested == "optimum" else "normal"
        refund.arn = "".join(str(secrets.randbelow(10)) for _ in range(12))
    payload = {"refund": refund_entity(refund), "payment": payment_entity(payment)}
    return [RaisedEvent(f"refund.{refund.status}", payload)]
