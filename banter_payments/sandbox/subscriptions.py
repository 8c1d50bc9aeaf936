"""Razorpay Subscriptions in the emulator: plans, subscriptions, invoices, the
subscription checkout, and a clock that charges cycles.

Razorpay charges a subscription by itself every cycle; the only way to see that in a
test is to make time pass. The sandbox clock runs ``offset_seconds`` ahead of the real
one (``POST /clock {"advance": "P1M"}`` or seconds): every subscription whose
``charge_at`` has passed is charged at that moment, succeeding or failing by the outcome
the test set for it (``POST /subscriptions/{id}/outcomes``), retried daily while
``pending`` and ``halted`` when the retries run out, ``completed`` after ``total_count``
paid cycles, and cancelled at the end of the cycle when asked. Each step writes its
webhooks (``subscription.*``, ``invoice.paid``, ``payment.*``) to the emulator's outbox
in the same transaction, so they are delivered with the same chaos switches as every
other event.

Each cycle is billed by an invoice with its own order (as Razorpay does); the payments
are ordinary sandbox payments of that order, carrying the invoice id in webhooks.
"""

from __future__ import annotations

import calendar
import datetime as dt
import functools
import hashlib
import hmac
import re
from collections.abc import Callable
from typing import Any

from pyramid.config import Configurator
from pyramid.request import Request
from pyramid.response import Response
from sqlalchemy import select
from sqlalchemy.orm import Session

from banter_payments.clock import utcnow
from banter_payments.db import locked
from banter_payments.sandbox.ids import razorpay_id

from .config import SERVICE_KEY
from .entities import collection, order_entity, payment_entity, unix
from .errors import RazorpayError, not_found
from .models import SandboxOrder
from .services import CHECKOUT_FIELDS, SandboxService, _capture, _new_payment
from .subscription_models import SandboxClock, SandboxInvoice, SandboxPlan, SandboxSubscription
from .validation import amount, choice, currency, flag, notes, parse_object, text
from .views import _authenticate, _body, _json, notify_url, under_faults
from .webhooks import RaisedEvent, enqueue

PERIODS = ("daily", "weekly", "monthly", "yearly")
# Razorpay retries a failed charge on the following days; after these it halts.
RETRY_DELAYS = (dt.timedelta(days=1), dt.timedelta(days=1), dt.timedelta(days=1))
MAX_TOTAL_COUNT = 1200
CHARGEABLE = ("active", "pending")
FINAL = ("cancelled", "completed", "expired")
DURATION = re.compile(r"^P(?:(\d+)Y)?(?:(\d+)M)?(?:(\d+)W)?(?:(\d+)D)?$")


def whole(minimum: int, maximum: int) -> Callable[[str, Any], int]:
    check = amount(minimum)

    def parse(field: str, value: Any) -> int:
        value = check(field, value)
        if value > maximum:
            raise RazorpayError(f"The {field} may not be greater than {maximum}.", field=field)
        return value

    return parse


def _item(field: str, value: Any) -> dict[str, Any]:
    item = parse_object(value, {"name": text(255), "amount": amount(100),
                                "currency": currency, "description": text(255)},
                        required=("name", "amount", "currency"))
    if not item["name"]:
        raise RazorpayError("The item name field is required.", field="item.name")
    return item


def _unix_time(field: str, value: Any) -> dt.datetime:
    seconds = amount(1)(field, value)
    return dt.datetime.fromtimestamp(seconds, dt.UTC)


PLAN_FIELDS = {"period": choice(*PERIODS), "interval": whole(1, 365), "item": _item,
               "notes": notes}
SUBSCRIPTION_FIELDS = {
    "plan_id": text(40), "total_count": whole(1, MAX_TOTAL_COUNT), "quantity": whole(1, 1),
    "customer_notify": flag, "notes": notes, "start_at": _unix_time,
    "expire_by": _unix_time,
}
CANCEL_FIELDS = {"cancel_at_cycle_end": flag}
PAUSE_FIELDS = {"pause_at": choice("now")}
UPDATE_FIELDS = {"plan_id": text(40), "quantity": whole(1, 1),
                 "remaining_count": whole(1, MAX_TOTAL_COUNT), "customer_notify": flag,
                 "schedule_change_at": choice("now", "cycle_end")}
RESUME_FIELDS = {"resume_at": choice("now")}
OUTCOME_FIELDS = {
    "outcome": choice("success", "failure"),
    "next": lambda field, value: [choice("success", "failure")(field, item)
                                  for item in _list(field, value)],
}
CLOCK_FIELDS = {"advance": lambda field, value: value}


def _list(field: str, value: Any) -> list:
    if not isinstance(value, list) or len(value) > 100:
        raise RazorpayError(f"The {field} field should be a list of at most 100.", field=field)
    return value


def add_months(moment: dt.datetime, months: int) -> dt.datetime:
    """The same day ``months`` later, or the month's last day when it is shorter."""
    month_index = moment.month - 1 + months
    year, month = moment.year + month_index // 12, month_index % 12 + 1
    day = min(moment.day, calendar.monthrange(year, month)[1])
    return moment.replace(year=year, month=month, day=day)


def add_period(moment: dt.datetime, period: str, interval: int) -> dt.datetime:
    if period == "daily":
        return moment + dt.timedelta(days=interval)
    if period == "weekly":
        return moment + dt.timedelta(weeks=interval)
    if period == "monthly":
        return add_months(moment, interval)
    return add_months(moment, 12 * interval)


def parse_advance(value: Any, now: dt.datetime) -> dt.datetime:
    """``{"advance": ...}``: whole seconds, or an ISO 8601 duration of years, months,
    weeks and days (``P1M`` is the same day next month, like a monthly cycle)."""
    if isinstance(value, int) and not isinstance(value, bool):
        if not 0 < value <= 10 * 366 * 86400:
            raise RazorpayError("The advance must be 1 second to 10 years.", field="advance")
        return now + dt.timedelta(seconds=value)
    match = DURATION.match(value) if isinstance(value, str) else None
    if not match or value == "P" or not any(match.groups()):
        raise RazorpayError("The advance must be whole seconds or a duration like P1M.",
                            field="advance")
    years, months, weeks, days = (int(part or 0) for part in match.groups())
    if years > 10 or months > 120 or weeks > 520 or days > 3660:
        raise RazorpayError("The advance must be at most 10 years.", field="advance")
    moment = add_months(now, 12 * years + months)
    return moment + dt.timedelta(weeks=weeks, days=days)


def subscription_signature(payment_id: str, subscription_id: str, key_secret: str) -> str:
    """Checkout's subscription signature: HMAC-SHA256 of ``payment_id|subscription_id``."""
    message = f"{payment_id}|{subscription_id}".encode()
    return hmac.new(key_secret.encode("utf-8"), message, hashlib.sha256).hexdigest()


def _ts(value: dt.datetime | None) -> int | None:
    return None if value is None else unix(value)


def plan_entity(plan: SandboxPlan) -> dict[str, Any]:
    return {
        "id": plan.id,
        "entity": "plan",
        "interval": plan.interval_count,
        "period": plan.period,
        "item": {
            "id": "item_" + plan.id.removeprefix("plan_"),
            "active": True,
            "name": plan.name,
            "description": plan.description,
            "amount": plan.amount,
            "unit_amount": plan.amount,
            "currency": plan.currency,
            "type": "plan",
        },
        "notes": dict(plan.notes) if plan.notes else [],
        "created_at": unix(plan.created_at),
    }


def subscription_entity(sub: SandboxSubscription) -> dict[str, Any]:
    return {
        "id": sub.id,
        "entity": "subscription",
        "plan_id": sub.plan_id,
        "customer_id": None,
        "status": sub.status,
        "current_start": _ts(sub.current_start),
        "current_end": _ts(sub.current_end),
        "ended_at": _ts(sub.ended_at),
        "quantity": sub.quantity,
        "notes": dict(sub.notes) if sub.notes else [],
        "charge_at": _ts(sub.charge_at),
        "start_at": _ts(sub.start_at),
        "end_at": _ts(sub.end_at),
        "auth_attempts": sub.auth_attempts,
        "total_count": sub.total_count,
        "paid_count": sub.paid_count,
        "customer_notify": sub.customer_notify,
        "created_at": unix(sub.created_at),
        "expire_by": None,
        "short_url": f"https://rzp.io/i/{sub.id.removeprefix('sub_')[:10]}",
        "has_scheduled_changes": False,
        "change_scheduled_at": None,
        "source": "api",
        "offer_id": None,
        "remaining_count": sub.total_count - sub.paid_count,
    }


def invoice_entity(invoice: SandboxInvoice) -> dict[str, Any]:
    return {
        "id": invoice.id,
        "entity": "invoice",
        "type": "invoice",
        "customer_id": None,
        "order_id": invoice.order_id,
        "subscription_id": invoice.subscription_id,
        "payment_id": invoice.payment_id,
        "status": invoice.status,
        "amount": invoice.amount,
        "amount_paid": invoice.amount_paid,
        "amount_due": invoice.amount - invoice.amount_paid,
        "currency": invoice.currency,
        "billing_start": unix(invoice.billing_start),
        "billing_end": unix(invoice.billing_end),
        "paid_at": _ts(invoice.paid_at),
        "issued_at": unix(invoice.created_at),
        "date": unix(invoice.created_at),
        "created_at": unix(invoice.created_at),
    }


def _get(session: Session, model: type, entity_id: Any, *, lock: bool = False) -> Any:
    if not isinstance(entity_id, str):
        raise not_found()
    query = select(model).where(model.id == entity_id)
    if lock:
        query = locked(query)
    row = session.scalars(query).one_or_none()
    if row is None:
        raise not_found()
    return row


class SubscriptionsEmulator:
    """Razorpay's Subscriptions product on the emulator's database and outbox."""

    def __init__(self, service: SandboxService) -> None:
        self.service = service

    # The clock

    def now(self, session: Session) -> dt.datetime:
        clock = session.get(SandboxClock, 1)
        offset = clock.offset_seconds if clock else 0
        return utcnow() + dt.timedelta(seconds=offset)

    def clock(self) -> dict[str, Any]:
        with self.service.reader() as session, session.begin():
            return {"now": unix(self.now(session))}

    def advance(self, data: Any, *, target: str) -> dict[str, Any]:
        body = parse_object(data, CLOCK_FIELDS, required=("advance",))
        with self.service.writer() as session, session.begin():
            clock = session.scalars(locked(
                select(SandboxClock).where(SandboxClock.id == 1))).one_or_none()
            if clock is None:
                clock = SandboxClock(id=1, offset_seconds=0)
                session.add(clock)
            real = utcnow()
            now = parse_advance(body["advance"], real + dt.timedelta(
                seconds=clock.offset_seconds))
            clock.offset_seconds = int((now - real).total_seconds())
        report = self.run_due(now, target=target)
        return {"now": unix(now), **report}

    def run_due(self, now: dt.datetime, *, target: str) -> dict[str, int]:
        """Charge (or cancel at cycle end) every subscription due by ``now``."""
        with self.service.reader() as session, session.begin():
            due = list(session.scalars(
                select(SandboxSubscription.id)
                .where(SandboxSubscription.status.in_(CHARGEABLE),
                       SandboxSubscription.charge_at <= now)
                .order_by(SandboxSubscription.id)))
        report = {"charged": 0, "failed": 0}
        for sub_id in due:
            with self.service.writer() as session, session.begin():
                sub = _get(session, SandboxSubscription, sub_id, lock=True)
                while sub.status in CHARGEABLE and sub.charge_at and sub.charge_at <= now:
                    at = sub.charge_at
                    if sub.cancel_at_cycle_end and sub.status == "active":
                        at = sub.current_end or at
                        self._enqueue(session, self._cancel(sub, at=at), sub, target, at)
                        break
                    outcome = self._next_outcome(sub)
                    events = self._charge(session, sub, at, outcome == "success", "card",
                                          target)
                    self._enqueue(session, events, sub, target, at)
                    report["charged" if outcome == "success" else "failed"] += 1
        self.service.on_enqueue()
        return report

    # Plans

    def create_plan(self, data: Any) -> dict[str, Any]:
        body = parse_object(data, PLAN_FIELDS, required=("period", "interval", "item"))
        item = body["item"]
        with self.service.writer() as session, session.begin():
            plan = SandboxPlan(id=razorpay_id("plan"), period=body["period"],
                               interval_count=body["interval"], name=item["name"],
                               description=item.get("description"), amount=item["amount"],
                               currency=item["currency"], notes=body.get("notes", {}),
                               created_at=self.now(session))
            session.add(plan)
            return plan_entity(plan)

    def get_plan(self, plan_id: str) -> dict[str, Any]:
        with self.service.reader() as session, session.begin():
            return plan_entity(_get(session, SandboxPlan, plan_id))

    def list_plans(self) -> dict[str, Any]:
        with self.service.reader() as session, session.begin():
            plans = session.scalars(select(SandboxPlan).order_by(SandboxPlan.id.desc()))
            return collection(plan_entity(plan) for plan in plans)

    # Subscriptions

    def create_subscription(self, data: Any, *, target: str) -> dict[str, Any]:
        body = parse_object(data, SUBSCRIPTION_FIELDS, required=("plan_id", "total_count"))
        with self.service.writer() as session, session.begin():
            plan = session.get(SandboxPlan, body["plan_id"])
            if plan is None:
                raise RazorpayError("The id provided does not exist", field="plan_id")
            now = self.now(session)
            sub = SandboxSubscription(
                id=razorpay_id("sub"), plan_id=plan.id, status="created", quantity=1,
                total_count=body["total_count"], paid_count=0, auth_attempts=0,
                failed_attempts=0, customer_notify=body.get("customer_notify", True),
                notes=body.get("notes", {}), start_at=body.get("start_at"),
                cancel_at_cycle_end=False, outcome="success", queued_outcomes=[],
                notify_url=target, created_at=now)
            session.add(sub)
            return subscription_entity(sub)

    def get_subscription(self, sub_id: str) -> dict[str, Any]:
        with self.service.reader() as session, session.begin():
            return subscription_entity(_get(session, SandboxSubscription, sub_id))

    def list_subscriptions(self) -> dict[str, Any]:
        with self.service.reader() as session, session.begin():
            subs = session.scalars(select(SandboxSubscription)
                                   .order_by(SandboxSubscription.id.desc()))
            return collection(subscription_entity(sub) for sub in subs)

    def cancel(self, sub_id: str, data: Any, *, target: str) -> dict[str, Any]:
        body = parse_object(data, CANCEL_FIELDS)
        at_cycle_end = body.get("cancel_at_cycle_end", False)
        with self.service.writer() as session, session.begin():
            sub = _get(session, SandboxSubscription, sub_id, lock=True)
            if sub.status in FINAL:
                raise RazorpayError("Subscription cannot be cancelled since it is already "
                                    f"{sub.status}.")
            now = self.now(session)
            if at_cycle_end and sub.status == "active":
                sub.cancel_at_cycle_end = True
                events = [RaisedEvent("subscription.updated",
                                      {"subscription": subscription_entity(sub)})]
            else:
                events = self._cancel(sub, at=now)
            self._enqueue(session, events, sub, target, now)
            entity = subscription_entity(sub)
        self.service.on_enqueue()
        return entity

    def update(self, sub_id: str, data: Any, *, target: str) -> dict[str, Any]:
        """``PATCH /v1/subscriptions/{id}``: another plan (charged from the next cycle
        on, no proration) or another ``remaining_count``, for an authenticated or
        active subscription. The sandbox applies changes ``now`` only."""
        body = parse_object(data, UPDATE_FIELDS)
        if body.get("schedule_change_at") == "cycle_end":
            raise RazorpayError("The sandbox applies subscription changes now only; "
                                "schedule_change_at cycle_end is not supported.",
                                field="schedule_change_at")
        if not body.keys() - {"schedule_change_at", "customer_notify"}:
            raise RazorpayError("At least one of plan_id, quantity or remaining_count is "
                                "required.")
        with self.service.writer() as session, session.begin():
            sub = _get(session, SandboxSubscription, sub_id, lock=True)
            if sub.status not in ("authenticated", "active"):
                raise RazorpayError("Subscription cannot be updated since it is "
                                    f"{sub.status}.")
            if "plan_id" in body:
                if session.get(SandboxPlan, body["plan_id"]) is None:
                    raise RazorpayError("The id provided does not exist", field="plan_id")
                sub.plan_id = body["plan_id"]
            if "remaining_count" in body:
                sub.total_count = sub.paid_count + body["remaining_count"]
            if "customer_notify" in body:
                sub.customer_notify = body["customer_notify"]
            now = self.now(session)
            self._enqueue(session, [RaisedEvent("subscription.updated", {
                "subscription": subscription_entity(sub)})], sub, target, now)
            entity = subscription_entity(sub)
        self.service.on_enqueue()
        return entity

    def pause(self, sub_id: str, data: Any, *, target: str) -> dict[str, Any]:
        """``pause_at: now`` (the only choice): no charge until resumed; the paid cycle
        stays paid. Only an active subscription can be paused."""
        parse_object(data, PAUSE_FIELDS)
        with self.service.writer() as session, session.begin():
            sub = _get(session, SandboxSubscription, sub_id, lock=True)
            if sub.status != "active":
                raise RazorpayError("Subscription cannot be paused since it is "
                                    f"{sub.status}.")
            now = self.now(session)
            sub.status, sub.charge_at = "paused", None
            self._enqueue(session, [RaisedEvent("subscription.paused", {
                "subscription": subscription_entity(sub)})], sub, target, now)
            entity = subscription_entity(sub)
        self.service.on_enqueue()
        return entity

    def resume(self, sub_id: str, data: Any, *, target: str) -> dict[str, Any]:
        """``resume_at: now``: active again, charged at the first cycle boundary from
        now on (the cycles that passed while paused are not billed)."""
        parse_object(data, RESUME_FIELDS)
        with self.service.writer() as session, session.begin():
            sub = _get(session, SandboxSubscription, sub_id, lock=True)
            if sub.status != "paused":
                raise RazorpayError("Subscription cannot be resumed since it is "
                                    f"{sub.status}.")
            now = self.now(session)
            plan = session.get(SandboxPlan, sub.plan_id)
            charge_at = sub.current_end or now
            while charge_at < now:
                charge_at = add_period(charge_at, plan.period, plan.interval_count)
            sub.status, sub.charge_at = "active", charge_at
            self._enqueue(session, [RaisedEvent("subscription.resumed", {
                "subscription": subscription_entity(sub)})], sub, target, now)
            entity = subscription_entity(sub)
        self.service.on_enqueue()
        return entity

    def invoices(self, subscription_id: str | None) -> dict[str, Any]:
        with self.service.reader() as session, session.begin():
            query = select(SandboxInvoice).order_by(SandboxInvoice.created_at.desc(),
                                                    SandboxInvoice.id.desc())
            if subscription_id is not None:
                query = query.where(SandboxInvoice.subscription_id == subscription_id)
            return collection(invoice_entity(i) for i in session.scalars(query))

    # What the customer and the test do

    def set_outcomes(self, sub_id: str, data: Any) -> dict[str, Any]:
        body = parse_object(data, OUTCOME_FIELDS)
        with self.service.writer() as session, session.begin():
            sub = _get(session, SandboxSubscription, sub_id, lock=True)
            if "outcome" in body:
                sub.outcome = body["outcome"]
            if "next" in body:
                sub.queued_outcomes = list(body["next"])
            return {"id": sub.id, "outcome": sub.outcome, "next": list(sub.queued_outcomes)}

    def checkout(self, sub_id: str, data: Any, *, target: str) -> dict[str, Any]:
        """The customer authorizes the mandate at Checkout; the first cycle is charged
        with it (Razorpay's immediate start). Answered as Checkout answers the client."""
        body = parse_object(data, CHECKOUT_FIELDS)
        success = body.get("outcome", "success") == "success"
        method = body.get("method", "card")
        with self.service.writer() as session, session.begin():
            sub = _get(session, SandboxSubscription, sub_id, lock=True)
            if sub.status != "created":
                raise RazorpayError("Subscription has already been authenticated",
                                    field="subscription_id")
            now = self.now(session)
            sub.auth_attempts += 1
            if success:
                sub.status = "authenticated"
                events = [RaisedEvent("subscription.authenticated",
                                      {"subscription": subscription_entity(sub)})]
                if sub.start_at is None or sub.start_at <= now:
                    sub.status = "active"
                    events += self._charge(session, sub, now, True, method, target,
                                           first=True)
                else:
                    sub.charge_at = sub.start_at
                payment_id = self._last_payment_id(session, sub)
            else:
                invoice, payment, order = self._attempt(session, sub, now, False, method,
                                                        target)
                events = [RaisedEvent("payment.failed", {"payment": self._payment(
                    payment, invoice)})]
            self._enqueue(session, events, sub, target, now)
        self.service.on_enqueue()
        if success:
            return {"razorpay_payment_id": payment_id, "razorpay_subscription_id": sub_id,
                    "razorpay_signature": subscription_signature(
                        payment_id, sub_id, self.service.config.key_secret)}
        return {"error": {
            "code": payment.error_code, "description": payment.error_description,
            "source": payment.error_source, "step": payment.error_step,
            "reason": payment.error_reason,
            "metadata": {"payment_id": payment.id, "subscription_id": sub_id}}}

    # The cycle

    def _enqueue(self, session: Session, events: list[RaisedEvent],
                 sub: SandboxSubscription, target: str, at: dt.datetime) -> None:
        """Events that happened at sandbox time ``at``, due for delivery from now (the
        real clock the delivery worker runs on)."""
        service = self.service
        enqueue(session, service.config, service.random, events,
                target_url=service.config.webhook_url or sub.notify_url or target,
                now=utcnow(), happened_at=at)

    def _next_outcome(self, sub: SandboxSubscription) -> str:
        if sub.queued_outcomes:
            queued = list(sub.queued_outcomes)
            outcome = queued.pop(0)
            sub.queued_outcomes = queued
            return outcome
        return sub.outcome

    def _last_payment_id(self, session: Session, sub: SandboxSubscription) -> str:
        return session.scalars(
            select(SandboxInvoice.payment_id)
            .where(SandboxInvoice.subscription_id == sub.id,
                   SandboxInvoice.payment_id.is_not(None))
            .order_by(SandboxInvoice.created_at.desc(), SandboxInvoice.id.desc())).first()

    def _payment(self, payment: Any, invoice: SandboxInvoice) -> dict[str, Any]:
        return {**payment_entity(payment), "invoice_id": invoice.id}

    def _attempt(self, session: Session, sub: SandboxSubscription, at: dt.datetime,
                 success: bool, method: str, target: str):
        """One attempt at the current cycle's invoice (made on its first attempt)."""
        plan = session.get(SandboxPlan, sub.plan_id)
        invoice = session.scalars(locked(
            select(SandboxInvoice).where(SandboxInvoice.subscription_id == sub.id,
                                         SandboxInvoice.status == "issued"))).one_or_none()
        if invoice is None:
            # The next cycle starts where the paid one ended, or later after a pause.
            start = at if sub.paid_count == 0 or sub.current_end is None \
                else max(sub.current_end, at)
            order = SandboxOrder(id=razorpay_id("order"), amount=plan.amount, amount_paid=0,
                                 currency=plan.currency, receipt=None,
                                 notes={"subscription_id": sub.id}, auto_capture=True,
                                 status="created", attempts=0, created_at=at)
            session.add(order)
            invoice = SandboxInvoice(
                id=razorpay_id("inv"), subscription_id=sub.id, order_id=order.id,
                payment_id=None, status="issued", amount=plan.amount, amount_paid=0,
                currency=plan.currency, billing_start=start,
                billing_end=add_period(start, plan.period, plan.interval_count),
                paid_at=None, created_at=at)
            session.add(invoice)
            session.flush()
        else:
            order = session.get(SandboxOrder, invoice.order_id)
        order.attempts += 1
        order.status = "attempted"
        payment = _new_payment(order, method, success, at, target)
        session.add(payment)
        session.flush()
        return invoice, payment, order

    def _charge(self, session: Session, sub: SandboxSubscription, at: dt.datetime,
                success: bool, method: str, target: str, *,
                first: bool = False) -> list[RaisedEvent]:
        invoice, payment, order = self._attempt(session, sub, at, success, method, target)
        if not success:
            sub.failed_attempts += 1
            if sub.failed_attempts > len(RETRY_DELAYS):
                sub.status, sub.charge_at = "halted", None
                name = "subscription.halted"
            else:
                sub.status = "pending"
                sub.charge_at = at + RETRY_DELAYS[sub.failed_attempts - 1]
                name = "subscription.pending"
            return [RaisedEvent("payment.failed", {"payment": self._payment(payment, invoice)}),
                    RaisedEvent(name, {"subscription": subscription_entity(sub),
                                       "payment": self._payment(payment, invoice)})]
        captured = _capture(order, payment, at)  # payment.captured and order.paid
        was = sub.status
        invoice.status, invoice.payment_id = "paid", payment.id
        invoice.amount_paid, invoice.paid_at = invoice.amount, at
        sub.failed_attempts = 0
        sub.paid_count += 1
        sub.current_start, sub.current_end = invoice.billing_start, invoice.billing_end
        sub.charge_at = invoice.billing_end
        sub.status = "active"
        if sub.paid_count >= sub.total_count:
            sub.status, sub.charge_at, sub.ended_at = "completed", None, at
            sub.end_at = invoice.billing_end
        entity = subscription_entity(sub)
        payment_json = self._payment(payment, invoice)
        events = [RaisedEvent(e.event, {**e.payload, "payment": payment_json})
                  for e in captured if e.event == "payment.captured"]
        if first or was == "halted":
            events.append(RaisedEvent("subscription.activated",
                                      {"subscription": {**entity, "status": "active"}}))
        events.append(RaisedEvent("subscription.charged",
                                  {"subscription": {**entity, "status": "active"},
                                   "payment": payment_json}))
        events.append(RaisedEvent("invoice.paid", {"payment": payment_json,
                                                   "order": order_entity(order),
                                                   "invoice": invoice_entity(invoice)}))
        if sub.status == "completed":
            events.append(RaisedEvent("subscription.completed",
                                      {"subscription": entity}))
        return events

    def _cancel(self, sub: SandboxSubscription, *, at: dt.datetime) -> list[RaisedEvent]:
        sub.status, sub.charge_at, sub.ended_at = "cancelled", None, at
        return [RaisedEvent("subscription.cancelled",
                            {"subscription": subscription_entity(sub)})]


# HTTP

EMULATOR_KEY = "banter_payments.sandbox.subscriptions"


def _emulator(request: Request) -> SubscriptionsEmulator:
    return request.registry[EMULATOR_KEY]


def api(view: Callable[[Request], Any], query: frozenset = frozenset(
        {"count", "skip", "from", "to", "expand[]"})) -> Callable[[Request], Response]:
    """A ``/v1`` view: basic auth, Razorpay's listing parameters, the fault plan (by
    route name, e.g. ``subscriptions.create``), a JSON answer."""

    @functools.wraps(view)
    def wrapper(request: Request) -> Response:
        _authenticate(request)
        try:
            unknown = [name for name in request.GET if name not in query]
        except UnicodeDecodeError:
            raise RazorpayError("The query string is not valid UTF-8") from None
        if unknown:
            raise RazorpayError(
                f"{', '.join(unknown)} is/are not required and should not be sent",
                field=unknown[0])
        return _json(under_faults(request, lambda: view(request)))

    return wrapper


def create_plan(request):
    return _emulator(request).create_plan(_body(request))


def get_plan(request):
    return _emulator(request).get_plan(request.matchdict["id"])


def list_plans(request):
    return _emulator(request).list_plans()


def create_subscription(request):
    return _emulator(request).create_subscription(_body(request),
                                                  target=notify_url(request))


def get_subscription(request):
    return _emulator(request).get_subscription(request.matchdict["id"])


def list_subscriptions(request):
    return _emulator(request).list_subscriptions()


def cancel_subscription(request):
    return _emulator(request).cancel(request.matchdict["id"], _body(request),
                                     target=notify_url(request))


def update_subscription(request):
    return _emulator(request).update(request.matchdict["id"], _body(request),
                                     target=notify_url(request))


def pause_subscription(request):
    return _emulator(request).pause(request.matchdict["id"], _body(request),
                                    target=notify_url(request))


def resume_subscription(request):
    return _emulator(request).resume(request.matchdict["id"], _body(request),
                                     target=notify_url(request))


def list_invoices(request):
    subscription_id = request.GET.get("subscription_id")
    return _emulator(request).invoices(subscription_id)


def subscription_checkout(request):
    return _json(_emulator(request).checkout(request.matchdict["id"], _body(request),
                                             target=notify_url(request)))


def subscription_outcomes(request):
    return _json(_emulator(request).set_outcomes(request.matchdict["id"], _body(request)))


def clock(request):
    if request.method == "GET":
        return _json(_emulator(request).clock())
    return _json(_emulator(request).advance(_body(request), target=notify_url(request)))


ROUTES: list[tuple[str, str, str, Callable[[Request], Response]]] = [
    ("plans.create", "/v1/plans", "POST", api(create_plan)),
    ("plans.list", "/v1/plans", "GET", api(list_plans)),
    ("plans.get", "/v1/plans/{id}", "GET", api(get_plan)),
    ("subscriptions.create", "/v1/subscriptions", "POST", api(create_subscription)),
    ("subscriptions.list", "/v1/subscriptions", "GET", api(list_subscriptions)),
    ("subscriptions.get", "/v1/subscriptions/{id}", "GET", api(get_subscription)),
    ("subscriptions.update", "/v1/subscriptions/{id}", "PATCH", api(update_subscription)),
    ("subscriptions.cancel", "/v1/subscriptions/{id}/cancel", "POST",
     api(cancel_subscription)),
    ("subscriptions.pause", "/v1/subscriptions/{id}/pause", "POST",
     api(pause_subscription)),
    ("subscriptions.resume", "/v1/subscriptions/{id}/resume", "POST",
     api(resume_subscription)),
    ("invoices.list", "/v1/invoices", "GET",
     api(list_invoices, frozenset({"subscription_id", "count", "skip", "from", "to"}))),
    ("subscriptions.checkout", "/subscriptions/{id}/checkout", "POST",
     subscription_checkout),
    ("subscriptions.outcomes", "/subscriptions/{id}/outcomes", "POST",
     subscription_outcomes),
    ("clock", "/clock", ("GET", "POST"), clock),
]


def includeme(config: Configurator) -> None:
    """Included by the emulator app, after its own routes (``views.includeme``)."""
    config.registry[EMULATOR_KEY] = SubscriptionsEmulator(config.registry[SERVICE_KEY])
    for name, pattern, method, view in ROUTES:
        config.add_route(name, pattern, request_method=method)
        config.add_view(view, route_name=name)
