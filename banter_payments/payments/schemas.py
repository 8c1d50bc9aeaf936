"""What the verify route accepts."""

from __future__ import annotations

import colander

from ..schemas import StrictSchema, StrictString

_ID = colander.Length(min=1, max=128)


class VerifyBody(StrictSchema):
    """Razorpay Checkout's success handler output, in its own snake_case or in ours."""

    razorpay_order_id = colander.SchemaNode(StrictString(), missing=None, validator=_ID)
    razorpay_payment_id = colander.SchemaNode(StrictString(), missing=None, validator=_ID)
    razorpay_signature = colander.SchemaNode(StrictString(), missing=None,
                                             validator=colander.Length(max=256))
    razorpayOrderId = colander.SchemaNode(StrictString(), missing=None, validator=_ID)
    razorpayPaymentId = colander.SchemaNode(StrictString(), missing=None, validator=_ID)
    razorpaySignature = colander.SchemaNode(StrictString(), missing=None,
                                            validator=colander.Length(max=256))

    def validator(self, node, value):
        error = colander.Invalid(node)
        for snake, camel in (("razorpay_order_id", "razorpayOrderId"),
                             ("razorpay_payment_id", "razorpayPaymentId"),
                             ("razorpay_signature", "razorpaySignature")):
            first, second = value.get(snake), value.get(camel)
            if first is None and second is None:
                error[snake] = "Required"
            elif first is not None and second is not None and first != second:
                error[snake] = f"differs from {camel}"
        if error.children:
            raise error
