"""What the admin outbox routes accept."""

from __future__ import annotations

import colander

from ..schemas import PageQuery, StrictSchema, StrictString
from .models import MESSAGE_STATUSES


class MessageListQuery(PageQuery):
    """``?status=dead&endpoint=jobs&topic=order.paid&limit=&cursor=``."""

    status = colander.SchemaNode(StrictString(), missing=None,
                                 validator=colander.OneOf(MESSAGE_STATUSES),
                                 description="only messages with this status")
    endpoint = colander.SchemaNode(StrictString(), missing=None,
                                   validator=colander.Length(max=64),
                                   description="only messages for this endpoint")
    topic = colander.SchemaNode(StrictString(), missing=None,
                                validator=colander.Length(max=64),
                                description="only messages of this topic")


class RetryBody(StrictSchema):
    """Nothing to say: the message is tried again as it is (``{}`` or no body)."""
