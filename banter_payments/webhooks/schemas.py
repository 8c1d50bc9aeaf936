"""What the admin webhook routes accept."""

from __future__ import annotations

import colander

from ..schemas import PageQuery, QueryBool, StrictSchema, StrictString
from .models import DELIVERY_OUTCOMES


class DeliveryListQuery(PageQuery):
    """``?status=failed&event=payment.captured&limit=&cursor=``."""

    status = colander.SchemaNode(StrictString(), missing=None,
                                 validator=colander.OneOf(DELIVERY_OUTCOMES),
                                 description="only deliveries with this outcome")
    include_resolved = colander.SchemaNode(
        QueryBool(), missing=False,
        description="with status=failed: also failures whose event was processed since")
    event = colander.SchemaNode(StrictString(), missing=None,
                                validator=colander.Length(max=100),
                                description="only deliveries of this event")


class ReplayBody(StrictSchema):
    """Nothing to say: the stored delivery is replayed as it is (``{}`` or no body)."""
