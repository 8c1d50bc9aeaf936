"""Input of the subscription routes."""

from __future__ import annotations

import colander

from banter_payments.refunds.schemas import RefundBody
from banter_payments.schemas import PageQuery, StrictBool, StrictSchema, StrictString

from .transitions import STATUSES

_ID = colander.Regex(r"^[A-Za-z0-9_]{1,40}$", msg="must be a Razorpay id")


class SubscribeBody(StrictSchema):
    plan = colander.SchemaNode(StrictString(), validator=colander.Length(min=1, max=100),
                               description="the plan's id, e.g. premium.monthly")


class VerifyBody(StrictSchema):
    """Razorpay Checkout's success handler output for a subscription, in its own
    snake_case or in ours."""

    razorpay_subscription_id = colander.SchemaNode(StrictString(), missing=None,
                                                   validator=_ID)
    razorpay_payment_id = colander.SchemaNode(StrictString(), missing=None, validator=_ID)
    razorpay_signature = colander.SchemaNode(StrictString(), missing=None,
                                             validator=colander.Length(max=256))
    razorpaySubscriptionId = colander.SchemaNode(StrictString(), missing=None,  # noqa: N815
                                                 validator=_ID)
    razorpayPaymentId = colander.SchemaNode(StrictString(), missing=None,  # noqa: N815
                                            validator=_ID)
    razorpaySignature = colander.SchemaNode(StrictString(), missing=None,  # noqa: N815
                                            validator=colander.Length(max=256))

    def validator(self, node, value):
        error = colander.Invalid(node)
        for snake, camel in (("razorpay_subscription_id", "razorpaySubscriptionId"),
                             ("razorpay_payment_id", "razorpayPaymentId"),
                             ("razorpay_signature", "razorpaySignature")):
            first, second = value.get(snake), value.get(camel)
            if first is None and second is None:
                error[snake] = "Required"
            elif first is not None and second is not None and first != second:
                error[snake] = f"differs from {camel}"
        if error.children:
            raise error


class CancelBody(StrictSchema):
    atCycleEnd = colander.SchemaNode(  # noqa: N815
        StrictBool(), missing=True,
        description="keep the subscription (and premium) until the paid cycle ends")


class AdminSubscriptionsQuery(PageQuery):
    status = colander.SchemaNode(StrictString(), missing=None,
                                 validator=colander.OneOf(sorted(STATUSES)))


class RefundChargeBody(RefundBody):
    """The core's refund body: ``amount`` (default: the whole charge), ``reason``,
    ``notes``."""
