"""Paid orders to refund, signed webhooks to deliver, and what the sandbox saw."""

from __future__ import annotations

import hashlib
import hmac
import json
import time

import pytest
import sqlalchemy as sa

from banter_payments.ledger.checker import check_ledger
from banter_payments.refunds.models import Refund
from banter_payments.sandbox.models import SandboxRefund
from banter_payments.settings import SANDBOX_WEBHOOK_SECRET
from tests.common.inbox import drain, recorded

PREFIX = "/api/payments"


@pytest.fixture
def settings(settings):
    settings["banter_payments.plugins"] = "banter_coins banter_gifting"
    settings["gifting.policy"] = "allow_all"
    return settings


class Shop:
    """The calls a refund test needs, through the real app (WebTest, sandbox in-process)."""

    def __init__(self, app, testapp, auth, dbsession, sandbox_session):
        self.app, self.testapp, self.auth = app, testapp, auth
        self.dbsession, self.sandbox_session = dbsession, sandbox_session

    def paid_order(self, user="alice", sku="coins.popular") -> dict:
        headers = self.auth(user)
        order = self.testapp.post_json(f"{PREFIX}/orders", {"sku": sku}, headers=headers,
                                       status=201).json
        checkout = self.testapp.post_json(
            f"{PREFIX}/_sandbox/razorpay/checkout/{order['razorpayOrderId']}/pay",
            {"outcome": "success", "method": "upi"}, status=200).json
        verified = self.testapp.post_json(f"{PREFIX}/verify", checkout, headers=headers,
                                          status=200).json
        assert verified["status"] == "paid" and verified["isConfirmed"] is True
        return verified

    def refund(self, order_id, body, status=201, user="ops", headers=None, **kwargs):
        all_headers = {**self.auth(user, "admin"), **(headers or {})}
        return self.testapp.post_json(f"{PREFIX}/orders/{order_id}/refunds", body,
                                      headers=all_headers, status=status, **kwargs)

    def refunds(self, order_id, user="ops", *roles):
        roles = roles or ("admin",)
        return self.testapp.get(f"{PREFIX}/orders/{order_id}/refunds",
                                headers=self.auth(user, *roles), status=200).json["items"]

    def order(self, order_id, user="alice"):
        return self.testapp.get(f"{PREFIX}/orders/{order_id}", headers=self.auth(user),
                                status=200).json

    def coins(self, user="alice") -> int:
        return self.testapp.get(f"{PREFIX}/wallet", headers=self.auth(user),
                                status=200).json["balances"]["coins"]

    def gift(self, to, coins, user="alice"):
        return self.testapp.post_json(f"{PREFIX}/gifts", {"to": to, "coins": coins},
                                      headers=self.auth(user), status=201).json

    def flush_webhooks(self) -> int:
        from tests.common.inbox import flush_webhooks

        return flush_webhooks(self.app, app=self.app)

    def deliver(self, event_name, refund_entity, payment_entity, status=200):
        """A signed refund webhook, as Razorpay would send it."""
        return self.send(event_name, {"refund": {"entity": refund_entity},
                                      "payment": {"entity": payment_entity}}, status)

    def send(self, event_name, payload, status=200):
        """Any signed webhook: ``payload`` is the event's ``payload`` object."""
        body = json.dumps({
            "entity": "event", "account_id": "acc_test", "event": event_name,
            "contains": list(payload), "created_at": int(time.time()), "payload": payload,
        }).encode()
        signature = hmac.new(SANDBOX_WEBHOOK_SECRET.encode(), body,
                             hashlib.sha256).hexdigest()
        event_id = "evt_" + hashlib.sha256(body).hexdigest()[:14]
        response = self.testapp.post(f"{PREFIX}/webhooks/razorpay", body, headers={
            "Content-Type": "application/json", "X-Razorpay-Signature": signature,
            "X-Razorpay-Event-Id": event_id}, status=status)
        if response.status_int == 200:
            # Processed from the inbox now; ``outcome`` is how the delivery ended.
            drain(self.app)
            response.outcome, response.error = recorded(self.dbsession,
                                                        response.json["deliveryId"])
        return response

    def rows(self) -> list[Refund]:
        self.dbsession.rollback()
        rows = list(self.dbsession.scalars(sa.select(Refund).order_by(Refund.id)))
        # Detached snapshots: reading them later must not open a transaction that
        # would hold SQLite's write lock.
        self.dbsession.expunge_all()
        self.dbsession.rollback()
        return rows

    def gateway_refunds(self) -> list[SandboxRefund]:
        """What the sandbox (Razorpay) has refunded."""
        self.sandbox_session.rollback()
        rows = list(self.sandbox_session.scalars(
            sa.select(SandboxRefund).order_by(SandboxRefund.created_at)))
        self.sandbox_session.expunge_all()
        self.sandbox_session.rollback()
        return rows

    def ledger_problems(self) -> list[str]:
        self.dbsession.rollback()
        problems = check_ledger(self.dbsession)
        self.dbsession.rollback()
        return problems


@pytest.fixture
def sandbox_session(sandbox_url):
    from banter_payments.db import make_engine, session_factories

    engine = make_engine(sandbox_url)
    _, reader = session_factories(engine)
    session = reader()
    yield session
    session.close()
    engine.dispose()


@pytest.fixture
def shop(app, testapp, auth, dbsession, sandbox_session) -> Shop:
    return Shop(app, testapp, auth, dbsession, sandbox_session)
