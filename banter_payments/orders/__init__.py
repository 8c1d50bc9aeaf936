"""Orders: create, list, show, retry (the verify route is the payments package's)."""

from ..api import BodyVariants
from .interfaces import IOrderQueries
from .responses import ORDER, ORDER_ERRORS, ORDER_PAGE
from .schemas import CatalogOrderBody, EmptyBody, OrderListQuery, ServiceOrderBody
from .services import order_queries_factory


def includeme(config):
    config.register_service_factory(order_queries_factory, IOrderQueries)
    config.add_route("payments.orders.create", "/orders", request_method="POST")
    config.add_route("payments.orders.list", "/orders", request_method="GET")
    config.add_route("payments.orders.show", "/orders/{order_id}", request_method="GET")
    config.add_route("payments.orders.retry", "/orders/{order_id}/retry")

    config.add_api_operation(
        "payments.orders.create", "POST", tag="orders", permission="user",
        summary="Create an order: a user buys a catalog sku; a service asks for an amount",
        body=BodyVariants(
            variants={"user": CatalogOrderBody(), "service": ServiceOrderBody()},
            select=lambda request: "service" if request.identity.is_service else "user",
        ),
        responses={201: "Order, with checkout options", **ORDER_ERRORS,
                   409: "conflict: an order for this externalRef is open or paid"},
        response_schema=ORDER,
    )
    config.add_api_operation(
        "payments.orders.list", "GET", tag="orders", permission="user",
        summary="The caller's orders, newest first (admin: ?userId=)", query=OrderListQuery,
        responses={200: "{items: [Order], nextCursor}", 400: "validation_failed",
                   401: "unauthenticated",
                   404: "not_found: ?userId= of another user, not as admin"},
        response_schema=ORDER_PAGE,
    )
    config.add_api_operation(
        "payments.orders.show", "GET", tag="orders", permission="user",
        summary="One order; poll until isConfirmed",
        responses={200: "Order", 401: "unauthenticated", 404: "not_found"},
        response_schema=ORDER,
    )
    config.add_api_operation(
        "payments.orders.retry", "POST", tag="orders", permission="user", body=EmptyBody,
        summary="A new order for the same item after a failed or expired one",
        responses={201: "Order, with checkout options", **ORDER_ERRORS,
                   409: "conflict: paid, not failed, or already retried"},
        response_schema=ORDER,
    )
    config.scan(".views")
