"""The browser Checkout's two calls: load an order (or a subscription) for the modal,
and pay it.

Razorpay's Checkout first loads its "preferences" (the key is checked, the order looked
up) and only then lets the customer pay; a wrong key, an unknown order or a paid one
stop it there with Razorpay's message. Paying checks what the page claimed (amount,
currency) against the order, turns what the customer typed into an outcome by
Razorpay's test rules (``inputs``), and hands the payment itself to the emulator's own
``SandboxService.pay``, so the state machine, the signature and the signed webhooks
(with every delivery switch) are the ones the rest of the sandbox uses.

With ``subscription_id`` (and no ``order_id``) the customer authenticates a
subscription, as in Razorpay's subscription Checkout: the modal shows the plan's
amount, the payment goes through the emulator's own subscription checkout
(``SubscriptionsEmulator.checkout``: the mandate and the first cycle's charge), and the
handler receives ``razorpay_payment_id``, ``razorpay_subscription_id`` and
``razorpay_signature`` (HMAC-SHA256 of ``payment_id|subscription_id``). The
``amount`` option is not used with a subscription, as Razorpay ignores it there. The
typed inputs decide the outcome and the payment's method; the emulator's subscription
charge records its method's sample details (not the card or VPA typed).
"""

from __future__ import annotations

import datetime as dt
import hmac
from typing import Any

from banter_payments.clock import utcnow

from ..errors import RazorpayError, not_found
from ..services import SandboxService
from ..subscriptions import SubscriptionsEmulator
from ..validation import notes as parse_notes
from . import inputs

INVALID_KEY = "The api key provided is invalid"
ALREADY_PAID = "Order has already been paid"
AMOUNT_DIFFERS = (
    "Your payment amount is different from your order amount. To pay successfully, "
    "please try using right amount."
)
CURRENCY_DIFFERS = "Your payment currency is different from your order currency."
NO_ORDER = "The sandbox Checkout needs an order_id: create an order first."
SUBSCRIPTION_TAKEN = "Subscription has already been authenticated"
METHODS = ("card", "upi", "netbanking", "wallet")


class CheckoutService:
    """The sandbox Checkout over one emulator's state."""

    def __init__(self, sandbox: SandboxService,
                 subscriptions: SubscriptionsEmulator | None = None) -> None:
        self.sandbox = sandbox
        self.subscriptions = subscriptions or SubscriptionsEmulator(sandbox)

    def preferences(self, data: Any) -> dict[str, Any]:
        """What the modal shows before the customer pays: the order (or the
        subscription, with its plan's amount) and the methods."""
        if self._wants_subscription(data):
            subscription = self._subscription(data)
            shown: dict[str, Any] = {"subscription": subscription, "order": None}
        else:
            order = self._order(data)
            shown = {"order": {
                "id": order["id"],
                "amount": order["amount"],
                "currency": order["currency"],
                "status": order["status"],
            }}
        return {
            "key_id": self.sandbox.config.key_id,
            **shown,
            "methods": {
                "card": True,
                "upi": True,
                "netbanking": inputs.BANKS,
                "wallet": inputs.WALLETS,
            },
        }

    def pay(self, data: Any, *, notify_url: str, today: dt.date | None = None) -> dict[str, Any]:
        """One payment attempt: Checkout's handler arguments, or its ``error`` object.

        Input Checkout's form would refuse raises ``RazorpayError`` and creates nothing.
        """
        subscription: dict[str, Any] | None = None
        order: dict[str, Any] | None = None
        if self._wants_subscription(data):
            subscription = self._subscription(data)
        else:
            order = self._order(data)
            _check_amount(data, order)
        method = data.get("method")
        if method not in METHODS:
            raise RazorpayError("The payment method is invalid.", field="method")
        details: dict[str, Any] = inputs.parse_contact(data)
        details["notes"] = parse_notes("notes", data.get("notes"))
        description = data.get("description")
        if isinstance(description, str) and description.strip():
            details["description"] = description.strip()[:255]
        card: dict[str, Any] | None = None
        if method == "card":
            typed = inputs.parse_card(data.get("card"), today=today or utcnow().date())
            card = {"name": typed.name, "last4": typed.last4, "network": typed.network}
            succeeds = typed.succeeds
        elif method == "upi":
            details["vpa"] = inputs.parse_vpa(data.get("vpa"))
            succeeds = details["vpa"].lower() != inputs.FAILING_VPA
        elif method == "netbanking":
            details["bank"] = inputs.parse_choice(data.get("bank"), inputs.BANKS, "bank")
            succeeds = inputs.parse_outcome(data.get("outcome"))
        else:
            details["wallet"] = inputs.parse_choice(data.get("wallet"), inputs.WALLETS, "wallet")
            succeeds = inputs.parse_outcome(data.get("outcome"))
        outcome = "success" if succeeds else "failure"
        if subscription is not None:
            return self.subscriptions.checkout(
                subscription["id"], {"outcome": outcome, "method": method},
                target=notify_url)
        assert order is not None
        return self.sandbox.pay(
            order["id"], {"outcome": outcome, "method": method},
            notify_url=notify_url, details=details, card=card,
        )

    def _check_key(self, data: Any) -> None:
        if not isinstance(data, dict):
            raise RazorpayError("The request body should be an object.")
        key = data.get("key")
        expected = self.sandbox.config.key_id
        if not isinstance(key, str) or not hmac.compare_digest(key.encode(), expected.encode()):
            raise RazorpayError(INVALID_KEY, status=401, field="key", source="NA", step="NA",
                                reason="NA")

    @staticmethod
    def _wants_subscription(data: Any) -> bool:
        return isinstance(data, dict) and data.get("subscription_id") is not None \
            and data.get("order_id") is None

    def _subscription(self, data: dict[str, Any]) -> dict[str, Any]:
        """The subscription the customer is to authenticate, with its plan's amount;
        refused when unknown or no longer waiting for its first payment."""
        self._check_key(data)
        subscription_id = data.get("subscription_id")
        if not isinstance(subscription_id, str):
            raise RazorpayError("The id provided does not exist", field="subscription_id")
        try:
            subscription = self.subscriptions.get_subscription(subscription_id)
        except RazorpayError:
            raise RazorpayError("The id provided does not exist",
                                field="subscription_id") from None
        if subscription["status"] != "created":
            raise RazorpayError(SUBSCRIPTION_TAKEN, field="subscription_id")
        item = self.subscriptions.get_plan(subscription["plan_id"])["item"]
        return {
            "id": subscription["id"],
            "plan_id": subscription["plan_id"],
            "amount": item["amount"] * subscription["quantity"],
            "currency": item["currency"],
            "status": subscription["status"],
        }

    def _order(self, data: Any) -> dict[str, Any]:
        self._check_key(data)
        order_id = data.get("order_id")
        if order_id is None:
            raise RazorpayError(NO_ORDER, field="order_id")
        if not isinstance(order_id, str):
            raise not_found()
        order = self.sandbox.get_order(order_id)
        if order["status"] == "paid":
            raise RazorpayError(ALREADY_PAID, field="order_id")
        return order


def _check_amount(data: dict[str, Any], order: dict[str, Any]) -> None:
    """Checkout's ``amount`` and ``currency`` options, when given, must be the order's.

    Razorpay's example passes the amount as a string ("50000"), so digits are accepted.
    """
    amount = data.get("amount")
    if amount not in (None, ""):
        if isinstance(amount, str) and amount.strip().isdigit():
            amount = int(amount.strip())
        if isinstance(amount, bool) or not isinstance(amount, int) or amount != order["amount"]:
            raise RazorpayError(AMOUNT_DIFFERS, field="amount")
    currency = data.get("currency")
    if currency not in (None, "") and currency != order["currency"]:
        raise RazorpayError(CURRENCY_DIFFERS, field="currency")
