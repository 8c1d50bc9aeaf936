"""What ``POST /admin/reconcile`` accepts."""

from __future__ import annotations

import colander

from ..schemas import StrictInt, StrictSchema


class ReconcileBody(StrictSchema):
    """``{}``, or ``{"limit": n}`` to look at no more than n orders in this call."""

    limit = colander.SchemaNode(StrictInt(), missing=None,
                                validator=colander.Range(1, 10_000),
                                description="at most this many orders in this call")
