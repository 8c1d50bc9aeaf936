"""The browser Checkout's two calls: load an order for the modal, and pay it.

Razorpay's Checkout first loads its "preferences" (the key is checked, the order looked
up) and only then lets the customer pay; a wrong key, an unknown order or a paid one
stop it there with Razorpay's message. Paying checks what the page claimed (amount,
currency) against the order, turns what the customer typed into an outcome by
Razorpay's test rules (``inputs``), and hands the payment itself to the emulator's own
``SandboxService.pay``, so the state machine, the signature and the signed webhooks
(with every delivery switch) are the ones the rest of the sandbox uses.
"""

from __future__ import annotations

import datetime as dt
import hmac
from typing import Any

from banter_payments.clock import utcnow

from ..errors import RazorpayError, not_found
from ..services import SandboxService
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
METHODS = ("card", "upi", "netbanking", "wallet")


class CheckoutService:
    """The sandbox Checkout over one emulator's state."""

    def __init__(self, sandbox: SandboxService) -> None:
        self.sandbox = sandbox

    def preferences(self, data: Any) -> dict[str, Any]:
        """What the modal shows before the customer pays: the order and the methods."""
        order = self._order(data)
        return {
            "key_id": self.sandbox.config.key_id,
            "order": {
                "id": order["id"],
                "amount": order["amount"],
                "currency": order["currency"],
                "status": order["status"],
            },
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
        return self.sandbox.pay(
            order["id"], {"outcome": outcome, "method": method},
            notify_url=notify_url, details=details, card=card,
        )

    def _order(self, data: Any) -> dict[str, Any]:
        if not isinstance(data, dict):
            raise RazorpayError("The request body should be an object.")
        key = data.get("key")
        expected = self.sandbox.config.key_id
        if not isinstance(key, str) or not hmac.compare_digest(key.encode(), expected.encode()):
            raise RazorpayError(INVALID_KEY, status=401, field="key", source="NA", step="NA",
                                reason="NA")
        if data.get("subscription_id") is not None and data.get("order_id") is None:
            # The sandbox has no subscriptions yet, so no subscription id exists in it.
            raise RazorpayError(
                "The id provided does not exist", field="subscription_id"
            )
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
