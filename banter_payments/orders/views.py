"""The order routes of API.md: create, list, show, retry (verify is in ``payments``)."""

from __future__ import annotations

from pyramid.view import view_config

from ..errors import NotFound
from . import services


@view_config(route_name="payments.orders.create", request_method="POST", renderer="json",
             permission="user")
def create_order(request):
    body = request.validated_body
    if request.identity.is_service:
        order = services.create_service_order(request, request.identity, body)
    else:
        order = services.create_catalog_order(request, request.identity, body["sku"])
    request.response.status = 201
    return services.order_to_json(request, order, checkout=True)


@view_config(route_name="payments.orders.list", request_method="GET", renderer="json",
             permission="user")
def list_orders(request):
    query = request.validated_query
    user_id = request.identity.user_id
    if query["userId"] is not None and query["userId"] != user_id:
        if not request.identity.is_admin:
            raise NotFound("No such user.")
        user_id = query["userId"]
    orders, next_cursor = services.list_orders(
        request.dbsession, user_id=user_id, limit=query["limit"], cursor=query["cursor"]
    )
    return {"items": [services.order_to_json(request, o) for o in orders],
            "nextCursor": next_cursor}


@view_config(route_name="payments.orders.show", request_method="GET", renderer="json",
             permission="user")
def show_order(request):
    order = services.get_visible_order(request, request.matchdict["order_id"])
    return services.order_to_json(request, order)


@view_config(route_name="payments.orders.retry", request_method="POST", renderer="json",
             permission="user")
def retry(request):
    order = services.get_visible_order(request, request.matchdict["order_id"])
    if order.user_id != request.identity.user_id and order.created_by != request.identity.user_id:
        raise NotFound("No such order.")
    if request.body:
        request.validated_body  # noqa: B018 - only an empty object is accepted
    new_order = services.retry_order(request, request.identity, order)
    request.response.status = 201
    return services.order_to_json(request, new_order, checkout=True)
