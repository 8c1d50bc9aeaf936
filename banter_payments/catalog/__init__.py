from .registry import add_asset, add_catalog_item
from .responses import CATALOG


def includeme(config):
    config.add_directive("add_asset", add_asset)
    config.add_directive("add_catalog_item", add_catalog_item)
    config.add_route("payments.catalog", "/catalog")
    config.add_api_operation(
        "payments.catalog", "GET", summary="Everything a user can buy", tag="catalog",
        responses={200: "{items: [Item]}"}, response_schema=CATALOG,
    )
    config.scan(".views")
