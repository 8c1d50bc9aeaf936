"""The OpenAPI description of the checkout simulation, which the mounted emulator serves.

The emulator validates its own input (``validation.py``, answering in Razorpay's error
shape); this schema only documents it for the app's ``GET /openapi.json``.
"""

from __future__ import annotations

import colander

from ..schemas import StrictSchema, StrictString

OUTCOMES = ("success", "failure")
METHODS = ("card", "upi", "netbanking", "wallet")


class CheckoutBody(StrictSchema):
    outcome = colander.SchemaNode(StrictString(), missing="success",
                                  validator=colander.OneOf(OUTCOMES))
    method = colander.SchemaNode(StrictString(), missing="card",
                                 validator=colander.OneOf(METHODS))


CHECKOUT_ANSWER = {
    "type": "object",
    "description": "success: what Razorpay Checkout hands the client; failure: its error",
    "properties": {
        "razorpay_payment_id": {"type": "string"},
        "razorpay_order_id": {"type": "string"},
        "razorpay_signature": {"type": "string"},
        "error": {"type": "object"},
    },
}
