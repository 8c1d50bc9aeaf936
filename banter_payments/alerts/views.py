"""``GET /admin/alerts``: where every alert stands, and the ones that fired."""

from __future__ import annotations

from typing import Any

from pyramid.request import Request
from pyramid.view import view_config

from ..cursors import decode_cursor, page
from .interfaces import IAlertService
from .services import event_to_json


@view_config(route_name="payments.alerts.list", request_method="GET", renderer="json",
             permission="admin")
def list_alerts(request: Request) -> dict[str, Any]:
    query = request.validated_query
    before = decode_cursor(query["cursor"], "alt") if query["cursor"] else None
    service = request.find_service(IAlertService)
    limit = query["limit"]
    events, next_cursor = page(service.history(limit, before), limit)
    return {"states": service.states(), "items": [event_to_json(e) for e in events],
            "nextCursor": next_cursor}
