"""The gateway over the official ``razorpay`` SDK.

The SDK sets no HTTP timeout of its own and raises a zoo of exceptions (its own
``BadRequestError``/``GatewayError``/``ServerError``, ``requests`` errors, ``ValueError``
from a non-JSON answer); this class passes an explicit timeout on every call and turns
every failure into one ``GatewayError`` with a message fit for a client: what failed,
never a credential.
"""

from __future__ import annotations

import hashlib
import hmac
import logging
from typing import Any

import razorpay
import requests
from zope.interface import implementer

from ..errors import GatewayError
from .interfaces import IPaymentGateway
from .timing import measured_gateway_call

log = logging.getLogger(__name__)


@implementer(IPaymentGateway)
class RazorpayGateway:
    def __init__(self, client: razorpay.Client, key_id: str, key_secret: str,
                 timeout: float):
        self.client = client
        self.key_id = key_id
        self._key_secret = key_secret
        self.timeout = timeout

    @measured_gateway_call
    def _call(self, what: str, fn, *args, **kwargs) -> Any:
        try:
            result = fn(*args, timeout=self.timeout, **kwargs)
        except razorpay.errors.BadRequestError as exc:
            raise GatewayError(f"Razorpay refused to {what}: {exc}",
                               details={"reason": "bad_request"}) from None
        except (razorpay.errors.GatewayError, razorpay.errors.ServerError) as exc:
            raise GatewayError(f"Razorpay failed to {what}: {exc}",
                               details={"reason": "gateway_failure"}) from None
        except requests.Timeout:
            raise GatewayError(f"Razorpay did not answer in time to {what}.",
                               details={"reason": "timeout"}) from None
        except (requests.RequestException, ValueError) as exc:
            log.warning("gateway call %s failed: %s", what, type(exc).__name__)
            raise GatewayError(f"Razorpay could not be reached to {what}.",
                               details={"reason": "unreachable"}) from None
        if not isinstance(result, dict):
            raise GatewayError(f"Razorpay answered something unusable to {what}.",
                               details={"reason": "bad_answer"})
        return result

    def create_order(self, amount: int, currency: str, receipt: str, notes: dict,
                     payment_capture: bool) -> dict:
        data = {"amount": amount, "currency": currency, "receipt": receipt, "notes": notes,
                "payment_capture": payment_capture}
        return self._call("create an order", self.client.order.create, data)

    def fetch_order(self, razorpay_order_id: str) -> dict:
        return self._call("fetch an order", self.client.order.fetch, razorpay_order_id)

    def fetch_order_payments(self, razorpay_order_id: str) -> list[dict]:
        collection = self._call("list an order's payments", self.client.order.payments,
                                razorpay_order_id)
        items = collection.get("items")
        if not isinstance(items, list):
            raise GatewayError("Razorpay answered something unusable to list payments.")
        return items

    def fetch_payment(self, razorpay_payment_id: str) -> dict:
        return self._call("fetch a payment", self.client.payment.fetch, razorpay_payment_id)

    def capture_payment(self, razorpay_payment_id: str, amount: int, currency: str) -> dict:
        return self._call("capture a payment", self.client.payment.capture,
                          razorpay_payment_id, amount, {"currency": currency})

    def refund_payment(self, razorpay_payment_id: str, amount: int, idempotency_key: str,
                       notes: dict, receipt: str) -> dict:
        data = {"amount": amount, "speed": "normal", "notes": notes, "receipt": receipt}
        return self._call("refund a payment", self.client.payment.refund,
                          razorpay_payment_id, data,
                          headers={"X-Refund-Idempotency": idempotency_key})

    def fetch_refund(self, razorpay_refund_id: str) -> dict:
        return self._call("fetch a refund", self.client.refund.fetch, razorpay_refund_id)

    def verify_payment_signature(self, razorpay_order_id: str, razorpay_payment_id: str,
                                 signature: str) -> bool:
        return self._signed(f"{razorpay_order_id}|{razorpay_payment_id}", signature)

    def _signed(self, message: str, signature: str) -> bool:
        expected = hmac.new(self._key_secret.encode(), message.encode(),
                            hashlib.sha256).hexdigest()
        # Bytes, not str: compare_digest refuses non-ASCII text with a TypeError, and a
        # client may send anything.
        return hmac.compare_digest(expected.encode(),
                                   signature.encode("utf-8", "surrogatepass"))

    # Subscriptions

    def create_plan(self, period: str, interval: int, name: str, amount: int,
                    currency: str, notes: dict) -> dict:
        data = {"period": period, "interval": interval, "notes": notes,
                "item": {"name": name, "amount": amount, "currency": currency}}
        return self._call("create a plan", self.client.plan.create, data)

    def fetch_plan(self, razorpay_plan_id: str) -> dict:
        return self._call("fetch a plan", self.client.plan.fetch, razorpay_plan_id)

    def create_subscription(self, razorpay_plan_id: str, total_count: int, notes: dict,
                            customer_notify: bool) -> dict:
        data = {"plan_id": razorpay_plan_id, "total_count": total_count, "notes": notes,
                "customer_notify": 1 if customer_notify else 0}
        return self._call("create a subscription", self.client.subscription.create, data)

    def fetch_subscription(self, razorpay_subscription_id: str) -> dict:
        return self._call("fetch a subscription", self.client.subscription.fetch,
                          razorpay_subscription_id)

    def fetch_subscription_invoices(self, razorpay_subscription_id: str) -> list[dict]:
        collection = self._call("list a subscription's invoices", self.client.invoice.all,
                                {"subscription_id": razorpay_subscription_id})
        items = collection.get("items")
        if not isinstance(items, list) or not all(isinstance(i, dict) for i in items):
            raise GatewayError("Razorpay answered something unusable to list invoices.")
        return items

    def cancel_subscription(self, razorpay_subscription_id: str, at_cycle_end: bool) -> dict:
        return self._call("cancel a subscription", self.client.subscription.cancel,
                          razorpay_subscription_id,
                          {"cancel_at_cycle_end": 1 if at_cycle_end else 0})

    def pause_subscription(self, razorpay_subscription_id: str) -> dict:
        return self._call("pause a subscription", self.client.subscription.pause,
                          razorpay_subscription_id, {"pause_at": "now"})

    def resume_subscription(self, razorpay_subscription_id: str) -> dict:
        return self._call("resume a subscription", self.client.subscription.resume,
                          razorpay_subscription_id, {"resume_at": "now"})

    def verify_subscription_signature(self, razorpay_subscription_id: str,
                                      razorpay_payment_id: str, signature: str) -> bool:
        # Payment first, unlike the order checkout's signature.
        return self._signed(f"{razorpay_payment_id}|{razorpay_subscription_id}", signature)
