"""Subscriptions kept in step with Razorpay: subscribe, verify, cancel, webhooks, and
the entitlement a host may trust.

Every change to one subscription happens with its row locked (``FOR UPDATE`` on
PostgreSQL; SQLite serializes writers), so a webhook delivered twenty times at once and
``/subscriptions/verify`` racing it queue on that lock, and each sees what the one
before it recorded: a charge is recorded once (and the database's unique payment and
invoice ids would refuse a second anyway). A snapshot of the subscription (from a
webhook or a fetch) moves our row only forward (``transitions``).

Premium lasts until the end of the last paid cycle plus ``subscriptions.grace_seconds``
(``premium_until``), mirrored as one wallet entitlement grant per charge so ``GET
/wallet`` shows it; halted and completed subscriptions simply stop being paid, and
cancelling ends it at the cancellation (at once, or at the cycle's end).
"""

from __future__ import annotations

import datetime as dt
import logging
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import and_, func, or_, select
from sqlalchemy.orm import Session
from zope.interface import implementer

from banter_payments.clock import isoformat, utcnow
from banter_payments.cursors import decode_cursor, page
from banter_payments.db import lock_key, locked
from banter_payments.errors import (
    Conflict,
    GatewayError,
    NotFound,
    SignatureInvalid,
    ValidationFailed,
)
from banter_payments.events import EventSink
from banter_payments.gateway.interfaces import IPaymentGateway
from banter_payments.ids import new_id
from banter_payments.ledger.interfaces import ILedgerService
from banter_payments.orders.models import Order
from banter_payments.payments.models import Payment
from banter_payments.wallet.interfaces import IWalletService
from banter_payments.webhooks.registry import IgnoreEvent

from .directives import Plan, plans
from .events import (
    SubscriptionActivated,
    SubscriptionCancelled,
    SubscriptionCharged,
    SubscriptionHalted,
    SubscriptionPaused,
    SubscriptionPaymentFailed,
    SubscriptionResumed,
)
from .interfaces import ISubscriptionService
from .models import GatewayPlan, Subscription, SubscriptionCharge
from .transitions import FINAL, LIVE, STATUSES, allowed

log = logging.getLogger(__name__)

EPOCH = dt.datetime(1970, 1, 1, tzinfo=dt.UTC)
# Statuses the check job asks the gateway about once their paid cycle has ended (a
# paused one too: a lost ``subscription.resumed`` must not leave it paused here).
CHECKED = ("authenticated", "active", "pending", "paused")
# A ``created`` subscription is asked about too (its checkout's webhooks may be lost)
# for this long after it was made; past it, it was abandoned at checkout.
CREATED_CHECKED_FOR = dt.timedelta(days=7)


def from_unix(value: Any) -> dt.datetime | None:
    if isinstance(value, bool) or not isinstance(value, int):
        return None
    return dt.datetime.fromtimestamp(value, dt.UTC)


def entity(payload: dict, name: str) -> dict | None:
    found = (payload.get(name) or {}).get("entity") if isinstance(payload, dict) else None
    return found if isinstance(found, dict) else None


@dataclass
class CheckReport:
    checked: int = 0
    changed: int = 0
    lapsed: list[str] = field(default_factory=list)
    errors: list[str] = field(default_factory=list)

    def to_json(self) -> dict[str, Any]:
        return {"checked": self.checked, "changed": self.changed,
                "lapsed": self.lapsed, "errors": self.errors}


@implementer(ISubscriptionService)
class SubscriptionService:
    """Bound to a session, the wallet and ledger on it, the configured plans, the grace,
    an event sink, and (asked for only when a call needs Razorpay) the gateway."""

    def __init__(self, session: Session, source: Any, wallet: IWalletService,
                 ledger: ILedgerService, plans: dict[str, Plan], grace_seconds: int,
                 events: EventSink, recheck_seconds: int = 3600):
        self.session = session
        self.source = source
        self.wallet = wallet
        self.ledger = ledger
        self.plans = plans
        self.grace = dt.timedelta(seconds=grace_seconds)
        self.recheck = dt.timedelta(seconds=recheck_seconds)
        self.events = events

    @property
    def gateway(self) -> IPaymentGateway:
        return self.source.find_service(IPaymentGateway)

    # Plans at the gateway

    def gateway_plan(self, plan: Plan) -> GatewayPlan:
        """Our plan's Razorpay plan at its current terms, created on first use. Razorpay
        plans are immutable: new terms make a new one, the old stays for its
        subscribers."""
        terms = (GatewayPlan.plan == plan.id, GatewayPlan.period == plan.period,
                 GatewayPlan.interval_count == plan.interval,
                 GatewayPlan.amount == plan.amount, GatewayPlan.currency == plan.currency)
        lock_key(self.session, f"subscription-plan:{plan.id}")
        found = self.session.scalars(select(GatewayPlan).where(*terms)).first()
        if found is not None:
            return found
        remote = self.gateway.create_plan(plan.period, plan.interval, plan.name,
                                          plan.amount, plan.currency, {"plan": plan.id})
        if not isinstance(remote.get("id"), str):
            raise GatewayError("Razorpay answered a plan without an id.")
        found = GatewayPlan(id=new_id("gpl"), plan=plan.id, period=plan.period,
                            interval_count=plan.interval, amount=plan.amount,
                            currency=plan.currency, razorpay_plan_id=remote["id"])
        self.session.add(found)
        self.session.flush()
        return found

    # What users do

    def subscribe(self, user_id: str, plan_id: str) -> Subscription:
        plan = self.plans.get(plan_id)
        if plan is None:
            raise ValidationFailed(details={"plan": f"unknown plan {plan_id!r}"})
        live_key = f"{user_id}|{plan.entitlement}"
        lock_key(self.session, f"subscription-live:{live_key}")
        if self.session.scalar(select(Subscription.id)
                               .where(Subscription.live_key == live_key)):
            raise Conflict(f"You already have a live {plan.entitlement} subscription.")
        gateway_plan = self.gateway_plan(plan)
        sub_id = new_id("sbs")
        remote = self.gateway.create_subscription(
            gateway_plan.razorpay_plan_id, plan.total_count,
            {"subscription_id": sub_id, "user_id": user_id, "plan": plan.id}, True)
        if not isinstance(remote.get("id"), str):
            raise GatewayError("Razorpay answered a subscription without an id.")
        sub = Subscription(id=sub_id, user_id=user_id, plan=plan.id,
                           family=plan.entitlement, gateway_plan_id=gateway_plan.id,
                           razorpay_subscription_id=remote["id"], status="created",
                           amount=plan.amount, currency=plan.currency,
                           total_count=plan.total_count, paid_count=0,
                           cancel_at_cycle_end=False)
        self.session.add(sub)
        self.session.flush()
        return sub

    def get(self, user_id: str, subscription_id: str, *, lock: bool = False
            ) -> Subscription:
        """The user's subscription (by our id or Razorpay's); ``NotFound`` for anyone
        else's, exactly as for one that does not exist."""
        query = select(Subscription).where(or_(
            Subscription.id == subscription_id,
            Subscription.razorpay_subscription_id == subscription_id))
        sub = self.session.scalars(locked(query) if lock else query).first()
        if sub is None or sub.user_id != user_id:
            raise NotFound("No such subscription.")
        return sub

    def get_any(self, subscription_id: str) -> Subscription:
        """Anyone's subscription, by our id or Razorpay's (for admins)."""
        sub = self.session.scalars(select(Subscription).where(or_(
            Subscription.id == subscription_id,
            Subscription.razorpay_subscription_id == subscription_id))).first()
        if sub is None:
            raise NotFound("No such subscription.")
        return sub

    def list(self, user_id: str) -> list[Subscription]:
        return list(self.session.scalars(
            select(Subscription).where(Subscription.user_id == user_id)
            .order_by(Subscription.created_at.desc(), Subscription.id.desc())))

    def verify(self, user_id: str, razorpay_subscription_id: str, razorpay_payment_id: str,
               signature: str) -> Subscription:
        """Checkout's signature proves the client saw this payment for this
        subscription; what we record comes from the gateway."""
        if not self.gateway.verify_subscription_signature(
                razorpay_subscription_id, razorpay_payment_id, signature):
            raise SignatureInvalid(
                "The checkout signature does not match this subscription and payment.")
        sub = self.get(user_id, razorpay_subscription_id, lock=True)
        remote = self.gateway.fetch_subscription(razorpay_subscription_id)
        if remote.get("id") != sub.razorpay_subscription_id:
            raise GatewayError("Razorpay answered another subscription.")
        self.apply_snapshot(sub, remote, None)
        payment = self.gateway.fetch_payment(razorpay_payment_id)
        start, end = from_unix(remote.get("current_start")), from_unix(remote.get("current_end"))
        # Checkout's payment pays the first cycle; later cycles come by webhook.
        if payment.get("status") == "captured" and remote.get("paid_count") == 1 \
                and start and end:
            self.record_charge(sub, payment, payment.get("invoice_id"), start, end)
        return sub

    def cancel(self, user_id: str, subscription_id: str, at_cycle_end: bool
               ) -> Subscription:
        sub = self.get(user_id, subscription_id, lock=True)
        if sub.status in FINAL or (at_cycle_end and sub.cancel_at_cycle_end):
            return sub  # cancelling twice changes nothing
        at_cycle_end = at_cycle_end and sub.status == "active"
        remote = self.gateway.cancel_subscription(sub.razorpay_subscription_id, at_cycle_end)
        if at_cycle_end:
            sub.cancel_at_cycle_end = True
            if sub.current_end and sub.premium_until:
                # No charge will come: premium ends with the paid cycle, grace or not.
                self._end_premium(sub, sub.current_end)
        self.apply_snapshot(sub, remote, None)
        if not at_cycle_end and sub.status != "cancelled":
            raise GatewayError("Razorpay did not cancel the subscription.")
        return sub

    def pause(self, user_id: str, subscription_id: str) -> Subscription:
        """Pause an active subscription at the gateway (no charge until resumed). The
        cycle already paid for stays paid: premium lasts to its end (plus grace), as
        Razorpay keeps the customer's paid cycle. Pausing twice changes nothing."""
        sub = self.get(user_id, subscription_id, lock=True)
        if sub.status == "paused":
            return sub
        if sub.status != "active":
            raise Conflict("Only an active subscription can be paused.",
                           details={"status": sub.status})
        remote = self.gateway.pause_subscription(sub.razorpay_subscription_id)
        self.apply_snapshot(sub, remote, None)
        if sub.status != "paused":
            raise GatewayError("Razorpay did not pause the subscription.")
        self._acted_now(sub)
        return sub

    def resume(self, user_id: str, subscription_id: str) -> Subscription:
        """Resume a paused subscription at the gateway; Razorpay charges it at its next
        cycle boundary, and that charge extends premium. Resuming twice changes nothing."""
        sub = self.get(user_id, subscription_id, lock=True)
        if sub.status == "active":
            return sub
        if sub.status != "paused":
            raise Conflict("Only a paused subscription can be resumed.",
                           details={"status": sub.status})
        remote = self.gateway.resume_subscription(sub.razorpay_subscription_id)
        self.apply_snapshot(sub, remote, None)
        if sub.status == "paused":
            raise GatewayError("Razorpay did not resume the subscription.")
        self._acted_now(sub)
        return sub

    def _acted_now(self, sub: Subscription) -> None:
        """We just changed the subscription at the gateway: a webhook raised before now
        (a pause's, delivered after the resume that followed it) is older than what we
        hold. The gateway's clock is taken to be ours."""
        sub.snapshot_at = max(sub.snapshot_at or EPOCH, utcnow())
        self.session.flush()

    # Snapshots and charges

    def apply_event(self, event: dict[str, Any]) -> None:
        name = event.get("event")
        payload = event.get("payload") or {}
        at = from_unix(event.get("created_at")) or utcnow()
        sub_entity = entity(payload, "subscription")
        payment = entity(payload, "payment")
        invoice = entity(payload, "invoice")
        razorpay_id = (sub_entity or {}).get("id") or (invoice or {}).get("subscription_id")
        if not isinstance(razorpay_id, str):
            raise IgnoreEvent("not a subscription's event")
        sub = self.session.scalars(locked(select(Subscription).where(
            Subscription.razorpay_subscription_id == razorpay_id))).first()
        if sub is None:
            raise IgnoreEvent(f"a subscription we never created: {razorpay_id}")
        if sub_entity is not None:
            changed = self.apply_snapshot(sub, sub_entity, at, name)
            if changed and payment and payment.get("status") == "failed" \
                    and name in ("subscription.pending", "subscription.halted"):
                self.events.emit(SubscriptionPaymentFailed(
                    request=self.events.source, subscription=sub,
                    razorpay_payment_id=payment.get("id")))
        if payment is None or payment.get("status") != "captured":
            return
        if name == "subscription.charged" and sub_entity is not None:
            start = from_unix(sub_entity.get("current_start"))
            end = from_unix(sub_entity.get("current_end"))
        elif name == "invoice.paid" and invoice is not None:
            start = from_unix(invoice.get("billing_start"))
            end = from_unix(invoice.get("billing_end"))
        else:
            return
        if start and end:
            invoice_id = payment.get("invoice_id") or (invoice or {}).get("id")
            self.record_charge(sub, payment, invoice_id, start, end)

    def apply_snapshot(self, sub: Subscription, remote: dict[str, Any],
                       at: dt.datetime | None, event: str | None = None) -> bool:
        """Move ``sub`` to the snapshot ``remote`` taken at ``at`` (``None``: a fetch,
        current now) if it is newer and the move is forward; whether it moved.

        ``event`` is the webhook's name: within one paid cycle only a resume (its
        webhook, or a fetch) takes a paused subscription back to active, since every
        other event of that cycle with an active snapshot (``activated``, ``charged``)
        happened before it was paused, however late it is delivered."""
        status = remote.get("status")
        paid = remote.get("paid_count")
        if status not in STATUSES or not isinstance(paid, int) or sub.status in FINAL:
            return False
        if (event is not None and event != "subscription.resumed" and paid == sub.paid_count
                and (sub.status, status) == ("paused", "active")):
            return False
        held = (sub.paid_count, sub.snapshot_at or EPOCH)
        seen = (paid, at or sub.snapshot_at or EPOCH)
        if seen < held or (seen == held and status == sub.status and at is not None):
            return False
        # A snapshot of a later paid cycle is ahead of everything we hold, whatever
        # status it reports; within one cycle only the table's moves are forward.
        if not (paid > sub.paid_count and status not in ("created", "authenticated")) \
                and not allowed(sub.status, status):
            return False
        before = sub.status
        sub.status = status
        sub.paid_count = max(sub.paid_count, paid)
        sub.current_start = from_unix(remote.get("current_start")) or sub.current_start
        sub.current_end = from_unix(remote.get("current_end")) or sub.current_end
        sub.charge_at = from_unix(remote.get("charge_at"))
        sub.ended_at = from_unix(remote.get("ended_at"))
        if at is not None:
            sub.snapshot_at = max(at, sub.snapshot_at or EPOCH)
        sub.live_key = f"{sub.user_id}|{sub.family}" if status in LIVE else None
        source = self.events.source
        if status == before:
            return True
        if status == "active" and before in ("created", "authenticated", "halted"):
            self.events.emit(SubscriptionActivated(request=source, subscription=sub))
        elif status == "active" and before == "paused":
            self.events.emit(SubscriptionResumed(request=source, subscription=sub))
        elif status == "paused":
            self.events.emit(SubscriptionPaused(request=source, subscription=sub))
        elif status == "halted":
            self.events.emit(SubscriptionHalted(request=source, subscription=sub))
        elif status == "cancelled":
            self._end_premium(sub, sub.ended_at or utcnow())
            self.events.emit(SubscriptionCancelled(request=source, subscription=sub))
        self.session.flush()
        return True

    def record_charge(self, sub: Subscription, payment: dict[str, Any],
                      invoice_id: str | None, start: dt.datetime, end: dt.datetime
                      ) -> SubscriptionCharge | None:
        """Record one paid cycle once, and grant what it bought (unless its amount or
        currency is not the plan's: then it is an anomaly that grants nothing)."""
        payment_id = payment.get("id")
        if not isinstance(payment_id, str):
            return None
        clauses = [SubscriptionCharge.razorpay_payment_id == payment_id]
        if invoice_id:
            clauses.append(SubscriptionCharge.razorpay_invoice_id == invoice_id)
        known = self.session.scalars(select(SubscriptionCharge).where(or_(*clauses))).first()
        if known is not None:
            if invoice_id and known.razorpay_invoice_id is None \
                    and known.razorpay_payment_id == payment_id:
                known.razorpay_invoice_id = invoice_id
            return None
        amount, currency = payment.get("amount"), payment.get("currency")
        anomaly = None
        if amount != sub.amount or currency != sub.currency:
            anomaly = (f"charged {amount!r} {currency!r}, the plan is {sub.amount} "
                       f"{sub.currency}")[:200]
            log.warning("subscription %s: %s (payment %s)", sub.id, anomaly, payment_id)
        charge = SubscriptionCharge(id=new_id("sch"), subscription_id=sub.id,
                                    razorpay_payment_id=payment_id,
                                    razorpay_invoice_id=invoice_id,
                                    amount=amount if isinstance(amount, int) else 0,
                                    currency=str(currency)[:3], cycle_start=start,
                                    cycle_end=end, anomaly=anomaly)
        self.session.add(charge)
        self.session.flush()
        if anomaly:
            return charge
        until = end + self.grace
        if sub.status == "cancelled" and sub.ended_at is not None:
            until = min(until, max(sub.ended_at, sub.premium_until or sub.ended_at))
        sub.premium_until = max(until, sub.premium_until or until)
        self.wallet.grant_entitlement(sub.user_id, sub.family,
                                      f"subscription:{sub.id}:{payment_id}", until)
        plan = self.plans.get(sub.plan)
        if plan is not None and plan.grants_per_cycle:
            self.ledger.grant(sub.user_id, dict(plan.grants_per_cycle),
                              f"subscription:{payment_id}", f"{plan.name}: one cycle",
                              kind="subscription",
                              metadata={"subscriptionId": sub.id, "paymentId": payment_id})
        self.session.flush()
        self.events.emit(SubscriptionCharged(request=self.events.source, subscription=sub,
                                             charge=charge))
        return charge

    def _count_charges(self, sub: Subscription) -> int:
        return self.session.scalar(select(func.count()).select_from(SubscriptionCharge)
                                   .where(SubscriptionCharge.subscription_id == sub.id))

    def _record_invoice(self, sub: Subscription, invoice: dict[str, Any]
                        ) -> SubscriptionCharge | None:
        if invoice.get("status") != "paid" or invoice.get("subscription_id") != \
                sub.razorpay_subscription_id or not isinstance(invoice.get("payment_id"), str):
            return None
        start = from_unix(invoice.get("billing_start"))
        end = from_unix(invoice.get("billing_end"))
        if not (start and end):
            return None
        payment = {"id": invoice["payment_id"], "amount": invoice.get("amount_paid"),
                   "currency": invoice.get("currency")}
        return self.record_charge(sub, payment, invoice.get("id"), start, end)

    def _end_premium(self, sub: Subscription, at: dt.datetime) -> None:
        """Premium ends at ``at`` (never later than it would have)."""
        if sub.premium_until is None or sub.premium_until <= at:
            return
        sub.premium_until = at
        sources = self.session.scalars(
            select(SubscriptionCharge.razorpay_payment_id)
            .where(SubscriptionCharge.subscription_id == sub.id,
                   SubscriptionCharge.anomaly.is_(None)))
        for payment_id in sources:
            self.wallet.revoke_entitlement(sub.user_id, sub.family,
                                           f"subscription:{sub.id}:{payment_id}", at)

    # What the host asks

    def entitlement(self, user_id: str, name: str = "premium",
                    now: dt.datetime | None = None) -> dict[str, Any]:
        now = now or utcnow()
        best = self.session.scalars(
            select(Subscription)
            .where(Subscription.user_id == user_id, Subscription.family == name,
                   Subscription.premium_until.is_not(None))
            .order_by(Subscription.premium_until.desc())).first()
        if best is None:
            return {"active": False, "until": None, "source": "subscription", "plan": None}
        return {"active": best.premium_until > now, "until": isoformat(best.premium_until),
                "source": "subscription", "plan": best.plan}

    def is_premium(self, user_id: str, now: dt.datetime | None = None) -> bool:
        return self.entitlement(user_id, "premium", now)["active"]

    # The check job (``jobs.check_subscriptions``): claim, ask the gateway, apply

    def claim_due(self, now: dt.datetime, limit: int = 20
                  ) -> list[tuple[str, str, int]]:
        """Claim up to ``limit`` subscriptions whose paid cycle has ended (or that have
        none yet), or that miss a charge, and that no other checker holds: rows other
        workers have locked are skipped, and a claimed row is not due again for
        ``subscriptions.recheck_seconds`` (its ``check_after``), so the claims survive
        this short transaction and the gateway calls happen with no lock held.
        ``[(id, Razorpay id, charges recorded)]``.
        """
        recorded = (select(func.count()).select_from(SubscriptionCharge)
                    .where(SubscriptionCharge.subscription_id == Subscription.id)
                    .correlate(Subscription).scalar_subquery())
        cycle_ended = and_(
            or_(Subscription.status.in_(CHECKED),
                and_(Subscription.status == "created",
                     Subscription.created_at >= now - CREATED_CHECKED_FOR)),
            or_(Subscription.current_end.is_(None), Subscription.current_end <= now))
        rows = list(self.session.scalars(locked(
            select(Subscription)
            # ... or a snapshot counted more paid cycles than we recorded charges (their
            # webhooks were lost), whatever its status.
            .where(or_(cycle_ended, Subscription.paid_count > recorded),
                   or_(Subscription.check_after.is_(None),
                       Subscription.check_after <= now))
            .order_by(Subscription.id).limit(limit), skip_locked=True)))
        claimed = []
        for sub in rows:
            sub.check_after = now + self.recheck
            claimed.append((sub.id, sub.razorpay_subscription_id, self._count_charges(sub)))
        self.session.flush()
        return claimed

    def apply_check(self, subscription_id: str, remote: dict[str, Any],
                    invoices: list[dict[str, Any]], now: dt.datetime) -> tuple[bool, bool]:
        """Apply what the gateway said of one subscription (its entity, and its invoices
        when charges were missing) through the same state machine as webhooks;
        (changed, lapsed)."""
        sub = self.session.scalars(locked(select(Subscription).where(
            Subscription.id == subscription_id))).one()
        if remote.get("id") != sub.razorpay_subscription_id:
            raise GatewayError("Razorpay answered another subscription.")
        changed = self.apply_snapshot(sub, remote, None)
        for invoice in invoices:
            # Charges whose webhooks never came: the paid invoices say what each bought.
            changed |= self._record_invoice(sub, invoice) is not None
        lapsed = sub.premium_until is not None and sub.premium_until <= now
        return changed, lapsed

    # Refunds of charges (through the core's refunds)

    def charge_order(self, session: Session, subscription_id: str, charge_id: str,
                     admin_id: str) -> str:
        """The core order standing for one charge, made on its first refund: the core
        refunds an order's captured payment, so the charge becomes a paid order whose
        payment is the charge's Razorpay payment. Made in ``session`` (the caller's own
        short transaction, committed before the refund reserves its amount)."""
        charge = session.scalars(locked(select(SubscriptionCharge).where(
            SubscriptionCharge.id == charge_id,
            SubscriptionCharge.subscription_id == subscription_id))).first()
        if charge is None:
            raise NotFound("No such charge of this subscription.")
        if charge.order_id is not None:
            return charge.order_id
        if charge.amount <= 0:
            raise Conflict("This charge recorded no amount to refund.",
                           details={"anomaly": charge.anomaly})
        sub = session.get(Subscription, subscription_id)
        plan = self.plans.get(sub.plan)
        order = Order(id=new_id("ord"), user_id=sub.user_id, created_by=admin_id,
                      sku=sub.plan, amount=charge.amount, currency=charge.currency,
                      status="paid", grants=dict(plan.grants_per_cycle) if plan else {},
                      entitlements=[], title=(plan.name if plan else sub.plan)[:200],
                      metadata_={"subscriptionId": sub.id, "chargeId": charge.id,
                                 "cycleStart": isoformat(charge.cycle_start),
                                 "cycleEnd": isoformat(charge.cycle_end)},
                      paid_at=charge.created_at, fulfilled_at=charge.created_at,
                      created_at=charge.created_at)
        session.add(order)
        session.flush()
        session.add(Payment(id=new_id("pmt"), order_id=order.id,
                            razorpay_payment_id=charge.razorpay_payment_id,
                            status="captured", amount=charge.amount,
                            currency=charge.currency, captured_at=charge.created_at,
                            created_at=charge.created_at))
        charge.order_id = order.id
        session.flush()
        return order.id

    def refund_processed(self, refund: Any, now: dt.datetime | None = None) -> None:
        """A processed refund of a charge's order: a full refund takes back the cycle
        that charge paid for (its entitlement grant is revoked, and premium ends where
        the other paid cycles end, or now); a partial one changes no entitlement."""
        charge = self.session.scalars(select(SubscriptionCharge).where(
            SubscriptionCharge.order_id == refund.order_id)).first()
        if charge is None or charge.refunded_at is not None:
            return
        order = self.session.get(Order, refund.order_id)
        if order is None or order.refunded_amount < order.amount:
            return
        now = now or utcnow()
        sub = self.session.scalars(locked(select(Subscription).where(
            Subscription.id == charge.subscription_id))).one()
        charge.refunded_at = now
        if charge.anomaly is not None:
            return  # it never granted anything
        self.wallet.revoke_entitlement(
            sub.user_id, sub.family, f"subscription:{sub.id}:{charge.razorpay_payment_id}",
            now)
        others = self.session.scalar(
            select(func.max(SubscriptionCharge.cycle_end))
            .where(SubscriptionCharge.subscription_id == sub.id,
                   SubscriptionCharge.anomaly.is_(None),
                   SubscriptionCharge.refunded_at.is_(None)))
        until = others + self.grace if others is not None else now
        if sub.premium_until is not None and until < sub.premium_until:
            sub.premium_until = until
        self.session.flush()

    def admin_list(self, *, status: str | None, limit: int, cursor: str | None
                   ) -> tuple[list[Subscription], str | None]:
        """Every subscription, newest first (keyset by id), for operators."""
        query = select(Subscription)
        if status is not None:
            query = query.where(Subscription.status == status)
        if cursor:
            query = query.where(Subscription.id < decode_cursor(cursor, "sbs"))
        return page(list(self.session.scalars(
            query.order_by(Subscription.id.desc()).limit(limit + 1))), limit)

    def charges(self, subscription_id: str) -> list[SubscriptionCharge]:
        return list(self.session.scalars(
            select(SubscriptionCharge)
            .where(SubscriptionCharge.subscription_id == subscription_id)
            .order_by(SubscriptionCharge.cycle_start, SubscriptionCharge.id)))


def subscription_service_factory(context: Any, source: Any) -> SubscriptionService:
    """``source`` is a request or a ``banter_payments.jobs.Job``."""
    settings = source.registry.settings
    return SubscriptionService(source.dbsession, source,
                               source.find_service(IWalletService),
                               source.find_service(ILedgerService),
                               plans(source.registry),
                               settings["subscriptions.grace_seconds"], EventSink(source),
                              settings["subscriptions.recheck_seconds"])


def subscription_json(sub: Subscription, *, checkout: dict | None = None
                      ) -> dict[str, Any]:
    result = {
        "id": sub.id,
        "plan": sub.plan,
        "status": sub.status,
        "razorpaySubscriptionId": sub.razorpay_subscription_id,
        "amount": sub.amount,
        "currency": sub.currency,
        "paidCount": sub.paid_count,
        "totalCount": sub.total_count,
        "currentStart": isoformat(sub.current_start) if sub.current_start else None,
        "currentEnd": isoformat(sub.current_end) if sub.current_end else None,
        "cancelAtCycleEnd": sub.cancel_at_cycle_end,
        "endedAt": isoformat(sub.ended_at) if sub.ended_at else None,
        "premiumUntil": isoformat(sub.premium_until) if sub.premium_until else None,
        "createdAt": isoformat(sub.created_at),
    }
    if checkout is not None:
        result["checkout"] = checkout
    return result
