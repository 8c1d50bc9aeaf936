"""``POST /webhooks/razorpay`` and the admin routes over stored deliveries."""

from __future__ import annotations

from typing import Any

import sqlalchemy as sa
from pyramid.request import Request
from pyramid.response import Response
from pyramid.security import NO_PERMISSION_REQUIRED
from pyramid.view import view_config

from ..clock import isoformat
from ..cursors import decode_cursor, page
from ..errors import Conflict, NotFound, error_response
from ..http.redaction import is_sensitive_name
from .models import FINAL_EVENT_STATUSES, WebhookDelivery, WebhookEvent, WebhookRefusal
from .services import Received, ReplayRefused, receive, replay


def received_response(request: Request, received: Received) -> Response:
    """200 ``queued`` or ``duplicate`` for a signed event; 400 for a refused delivery.
    Returned, never raised: pyramid_tm then commits the record of the delivery. What the
    handlers make of the event later never changes this answer (a storage failure is the
    only 503, from ``banter_payments.errors``)."""
    if received.outcome == "rejected":
        details = dict(received.details)
        if received.delivery_id is not None:  # an unsigned one may be counted, not kept
            details["deliveryId"] = received.delivery_id
        return error_response(request, 400, received.error_code or "validation_failed",
                              received.error or "The delivery was refused.", details)
    response = Response(json_body={"status": received.outcome,
                                   "deliveryId": received.delivery_id}, charset="utf-8")
    response.content_type = "application/json"
    return response


@view_config(route_name="payments.webhooks.razorpay", request_method="POST",
             permission=NO_PERMISSION_REQUIRED)
def razorpay_webhook(request: Request) -> Response:
    return received_response(request, receive(request))


def delivery_to_json(delivery: WebhookDelivery, event: WebhookEvent | None, *,
                     full: bool = False) -> dict[str, Any]:
    data: dict[str, Any] = {
        "id": delivery.id,
        "eventId": delivery.event_id,
        "event": delivery.event,
        "source": delivery.source,
        "replayOf": delivery.replay_of_id,
        "receivedAt": isoformat(delivery.received_at),
        "status": delivery.outcome,
        "error": delivery.error,
        "durationMs": delivery.duration_ms,
        # Where the event stands now: a failed delivery may have been processed since.
        "eventStatus": event.status if event else None,
        "eventAttempts": event.attempts if event else None,
    }
    if full:
        data.update(
            # Never a signature, or anything secret-like, even from rows stored before
            # signatures stopped being kept.
            headers={name: value for name, value in delivery.headers.items()
                     if not is_sensitive_name(name)},
            body=delivery.body.decode("utf-8", errors="replace"),
            traceback=delivery.traceback,
        )
    return data


@view_config(route_name="payments.webhooks.list", request_method="GET", renderer="json",
             permission="admin")
def list_deliveries(request: Request) -> dict[str, Any]:
    query = request.validated_query
    statement = (sa.select(WebhookDelivery, WebhookEvent)
                 .outerjoin(WebhookEvent,
                            WebhookEvent.id == WebhookDelivery.webhook_event_id))
    if query["status"]:
        statement = statement.where(WebhookDelivery.outcome == query["status"])
    if query["status"] == "failed" and not query["include_resolved"]:
        # The failures still to act on: not those whose event has since been processed
        # (by Razorpay's retry or a replay).
        statement = statement.where(WebhookEvent.status.not_in(FINAL_EVENT_STATUSES))
    if query["event"]:
        statement = statement.where(WebhookDelivery.event == query["event"])
    if query["cursor"]:
        statement = statement.where(WebhookDelivery.id < decode_cursor(query["cursor"], "whd"))
    limit = query["limit"]
    rows, next_cursor = page(request.dbsession.execute(
        statement.order_by(WebhookDelivery.id.desc()).limit(limit + 1)
    ).all(), limit, key=lambda row: row[0].id)
    return {"items": [delivery_to_json(d, e) for d, e in rows],
            "nextCursor": next_cursor}


REFUSALS_SHOWN = 500


@view_config(route_name="payments.webhooks.refusals", request_method="GET",
             renderer="json", permission="admin")
def list_refusals(request: Request) -> dict[str, Any]:
    """What unsigned deliveries came, counted; a sample of each is among the deliveries
    (``?status=rejected``)."""
    rows = request.dbsession.scalars(
        sa.select(WebhookRefusal)
        .order_by(WebhookRefusal.day.desc(), WebhookRefusal.count.desc(), WebhookRefusal.id)
        .limit(REFUSALS_SHOWN))
    return {"items": [{"day": row.day.isoformat(), "reason": row.reason,
                       "source": row.source, "count": row.count,
                       "firstSeenAt": isoformat(row.first_seen_at),
                       "lastSeenAt": isoformat(row.last_seen_at)} for row in rows]}


def _stored(request: Request) -> tuple[WebhookDelivery, WebhookEvent | None]:
    delivery = request.dbsession.get(WebhookDelivery, request.matchdict["delivery_id"])
    if delivery is None:
        raise NotFound("No such webhook delivery.")
    event = (request.dbsession.get(WebhookEvent, delivery.webhook_event_id)
             if delivery.webhook_event_id else None)
    return delivery, event


@view_config(route_name="payments.webhooks.show", request_method="GET", renderer="json",
             permission="admin")
def show_delivery(request: Request) -> dict[str, Any]:
    delivery, event = _stored(request)
    return delivery_to_json(delivery, event, full=True)


@view_config(route_name="payments.webhooks.replay", request_method="POST",
             renderer="json", permission="admin")
def replay_delivery(request: Request) -> dict[str, Any]:
    """Dispatch a stored delivery again; answers the new delivery it produced. A replay
    that fails is recorded like any failed delivery and reported in its ``status``."""
    if request.body:
        request.validated_body  # noqa: B018 - only an empty object is accepted
    stored, _ = _stored(request)
    try:
        received = replay(request, stored.id)
    except ReplayRefused as exc:
        raise Conflict(str(exc)) from None
    request.dbsession.flush()
    delivery, event = request.dbsession.get(WebhookDelivery, received.delivery_id), None
    if delivery.webhook_event_id:
        event = request.dbsession.get(WebhookEvent, delivery.webhook_event_id,
                                      populate_existing=True)
    return delivery_to_json(delivery, event)
