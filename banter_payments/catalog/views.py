"""``GET /catalog``: every item registered by the core, plugins and the host app."""

from __future__ import annotations

from pyramid.view import view_config

from .registry import catalog


@view_config(route_name="payments.catalog", request_method="GET", renderer="json")
def list_catalog(request):
    items = sorted(catalog(request.registry).values(),
                   key=lambda item: (item.kind, item.sort_key, item.amount, item.sku))
    return {"items": [item.to_json() for item in items]}
