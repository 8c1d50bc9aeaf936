"""``POST /orders/{id}/refunds`` (admin) and ``GET /orders/{id}/refunds``."""

from __future__ import annotations

import hashlib
import secrets

from pyramid.request import Request
from pyramid.view import view_config

from ..idempotency.tweens import ACTIVE
from ..orders.services import get_visible_order
from . import services
from .interfaces import IRefundService

GATEWAY_KEY = "banter_payments.refunds.gateway_key"


def gateway_key(request: Request, order_id: str) -> str:
    """The X-Refund-Idempotency key of this request's refund (at least 10 characters).

    Derived from the caller's ``Idempotency-Key`` when there is one, and kept in the
    WSGI environ across pyramid_retry's attempts, so a retried request re-sends the same
    key and the gateway answers with the first refund instead of making a second.
    """
    environ = request.environ
    if GATEWAY_KEY not in environ:
        claim = environ.get(ACTIVE)
        if claim is not None:
            seed = f"{claim.scope}\n{claim.key}\n{order_id}".encode()
            environ[GATEWAY_KEY] = "rfk_" + hashlib.sha256(seed).hexdigest()[:40]
        else:
            environ[GATEWAY_KEY] = "rfk_" + secrets.token_hex(20)
    return environ[GATEWAY_KEY]


@view_config(route_name="payments.refunds.create", request_method="POST", renderer="json",
             permission="admin")
def create_refund(request):
    body = request.validated_body
    order_id = request.matchdict["order_id"]
    refund = request.find_service(IRefundService).create_refund(
        order_id, amount=body["amount"], reason=body["reason"], notes=body.get("notes"),
        gateway_key=gateway_key(request, order_id), created_by=request.identity.user_id)
    request.response.status = 201
    [shown] = services.refunds_to_json(request.dbsession, [refund])
    return shown


@view_config(route_name="payments.refunds.list", request_method="GET", renderer="json",
             permission="user")
def list_refunds(request):
    order = get_visible_order(request, request.matchdict["order_id"])
    refunds = services.order_refunds(request.dbsession, order.id)
    return {"items": services.refunds_to_json(request.dbsession, refunds)}


@view_config(route_name="payments.admin.refunds.list", request_method="GET", renderer="json",
             permission="admin")
def admin_list_refunds(request):
    query = request.validated_query
    refunds, next_cursor = services.admin_refunds(
        request.dbsession, status=query["status"], with_shortfall=query["shortfall"],
        limit=query["limit"], cursor=query["cursor"])
    return {"items": services.refunds_to_json(request.dbsession, refunds),
            "nextCursor": next_cursor}
