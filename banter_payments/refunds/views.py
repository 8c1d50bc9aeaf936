"""``POST /orders/{id}/refunds`` (admin) and ``GET /orders/{id}/refunds``."""

from __future__ import annotations

from pyramid.view import view_config

from ..orders.services import get_visible_order
from . import services


@view_config(route_name="payments.refunds.create", request_method="POST", renderer="json",
             permission="admin")
def create_refund(request):
    body = request.validated_body
    refund = services.create_refund(request, request.matchdict["order_id"],
                                    amount=body["amount"], reason=body["reason"],
                                    notes=body.get("notes"))
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
