"""The in-app inbox: ``/notifications`` and its preferences; every route is the
caller's own (another user's notification is a 404, as if it did not exist)."""

from __future__ import annotations

from typing import Any

from pyramid.request import Request
from pyramid.view import view_config

from banter_payments.clock import isoformat
from banter_payments.cursors import decode_cursor, page
from banter_payments.errors import NotFound

from .interfaces import IInbox
from .models import Notification


def notification_to_json(notification: Notification) -> dict[str, Any]:
    return {
        "id": notification.id,
        "kind": notification.kind,
        "title": notification.title,
        "body": notification.body,
        "reference": notification.reference,
        "data": notification.data,
        "emailed": notification.emailed_to is not None,
        "read": notification.read_at is not None,
        "readAt": isoformat(notification.read_at),
        "createdAt": isoformat(notification.created_at),
    }


@view_config(route_name="payments.notifications.list", request_method="GET",
             renderer="json", permission="user")
def list_notifications(request: Request) -> dict[str, Any]:
    query = request.validated_query
    before = decode_cursor(query["cursor"], "ntf") if query["cursor"] else None
    rows = request.find_service(IInbox).page(
        request.identity.user_id, limit=query["limit"], before=before,
        unread_only=query["unread"])
    items, next_cursor = page(rows, query["limit"])
    return {"items": [notification_to_json(n) for n in items], "nextCursor": next_cursor}


@view_config(route_name="payments.notifications.unread_count", request_method="GET",
             renderer="json", permission="user")
def unread_count(request: Request) -> dict[str, Any]:
    return {"unread": request.find_service(IInbox).unread_count(request.identity.user_id)}


@view_config(route_name="payments.notifications.read", request_method="POST",
             renderer="json", permission="user")
def mark_read(request: Request) -> dict[str, Any]:
    if request.body:
        request.validated_body  # noqa: B018 - only an empty object is accepted
    notification = request.find_service(IInbox).mark_read(
        request.identity.user_id, request.matchdict["notification_id"])
    if notification is None:
        raise NotFound("No such notification.")
    return notification_to_json(notification)


@view_config(route_name="payments.notifications.read_all", request_method="POST",
             renderer="json", permission="user")
def mark_all_read(request: Request) -> dict[str, Any]:
    if request.body:
        request.validated_body  # noqa: B018 - only an empty object is accepted
    inbox = request.find_service(IInbox)
    marked = inbox.mark_all_read(request.identity.user_id)
    return {"marked": marked, "unread": inbox.unread_count(request.identity.user_id)}


def _preferences(request: Request, email: dict[str, bool]) -> dict[str, Any]:
    inbox = request.find_service(IInbox)
    return {"email": email, "locked": inbox.locked_kinds()}


@view_config(route_name="payments.notifications.preferences", request_method="GET",
             renderer="json", permission="user")
def get_preferences(request: Request) -> dict[str, Any]:
    inbox = request.find_service(IInbox)
    return _preferences(request, inbox.preferences(request.identity.user_id))


@view_config(route_name="payments.notifications.preferences", request_method="PUT",
             renderer="json", permission="user")
def put_preferences(request: Request) -> dict[str, Any]:
    body = request.validated_body
    inbox = request.find_service(IInbox)
    return _preferences(request, inbox.set_preferences(request.identity.user_id,
                                                       body["email"]))
