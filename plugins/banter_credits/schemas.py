"""Input of the credits routes."""

from __future__ import annotations

import colander

from banter_payments.schemas import StrictSchema, StrictString


class SummaryQuery(StrictSchema):
    userId = colander.SchemaNode(  # noqa: N815
        StrictString(), missing=None, validator=colander.Length(min=1, max=128),
        description="admins and services only: another user's summary",
    )
