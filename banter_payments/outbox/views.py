"""``GET /admin/outbox`` and ``POST /admin/outbox/{message_id}/retry``."""

from __future__ import annotations

from typing import Any

import sqlalchemy as sa
from pyramid.request import Request
from pyramid.view import view_config

from ..cursors import decode_cursor, page
from .models import OutboxMessage
from .services import message_to_json, retry_message


@view_config(route_name="payments.outbox.list", request_method="GET", renderer="json",
             permission="admin")
def list_messages(request: Request) -> dict[str, Any]:
    query = request.validated_query
    statement = sa.select(OutboxMessage)
    if query["status"]:
        statement = statement.where(OutboxMessage.status == query["status"])
    if query["endpoint"]:
        statement = statement.where(OutboxMessage.endpoint == query["endpoint"])
    if query["topic"]:
        statement = statement.where(OutboxMessage.topic == query["topic"])
    if query["cursor"]:
        statement = statement.where(OutboxMessage.id < decode_cursor(query["cursor"], "obm"))
    limit = query["limit"]
    rows, next_cursor = page(request.dbsession.scalars(
        statement.order_by(OutboxMessage.id.desc()).limit(limit + 1)).all(), limit)
    return {"items": [message_to_json(m) for m in rows], "nextCursor": next_cursor}


@view_config(route_name="payments.outbox.retry", request_method="POST", renderer="json",
             permission="admin")
def retry(request: Request) -> dict[str, Any]:
    if request.body:
        request.validated_body  # noqa: B018 - only an empty object is accepted
    message = retry_message(request.dbsession, request.matchdict["message_id"])
    return message_to_json(message)
