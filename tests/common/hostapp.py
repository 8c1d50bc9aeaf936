"""A host app, as a user of banter-payments writes one: its own prefix, its own item."""

from pyramid.config import Configurator


def includeme(config):
    """The host's own configuration: an asset and an item of its own."""
    config.add_asset("gems", title="Gems")
    config.add_catalog_item(
        "gems.handful", kind="gems", name="A handful of gems", amount=19900,
        grants={"gems": 50}, display={"sparkles": 3},
    )


def make_app(settings):
    with Configurator(settings=settings) as config:
        config.include("banter_payments", route_prefix="/shop/pay")
        config.include(includeme)
    return config.make_wsgi_app()
