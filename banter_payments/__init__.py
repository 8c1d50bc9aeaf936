"""banter-payments: a Pyramid payments core for Razorpay, and the place to start reading.

``main`` is the PasteDeploy app (``pserve development.ini``). ``includeme`` is the
composition root: the ordered list below is everything the core is made of. A host app
gets the same thing with ``config.include("banter_payments", route_prefix=...)``.
"""

from __future__ import annotations

import warnings

# Pyramid, colander and the razorpay SDK import pkg_resources, which setuptools warns
# about on every start; nothing here can act on it. Set before Pyramid is imported, so
# the console scripts and alembic (which import this package first) start quietly.
warnings.filterwarnings("ignore", message="pkg_resources is deprecated",
                        category=UserWarning)

from pyramid.config import Configurator  # noqa: E402


def main(global_config, **settings):
    """The WSGI app of ``development.ini`` / ``production.ini``."""
    with Configurator(settings=settings) as config:
        config.include("banter_payments")
    return config.make_wsgi_app()


def includeme(config: Configurator) -> None:
    # Settings first: everything below reads typed, validated values.
    config.include(".settings")
    settings = config.registry.settings

    # The request lifecycle, outermost first: services, the transaction per request,
    # and replaying a request that lost a serialization race.
    config.include("pyramid_services")
    config.include("pyramid_tm")
    config.include("pyramid_retry")

    # Plumbing every feature uses.
    config.include(".db")
    config.include(".renderers")
    config.include(".errors")
    config.include(".security")
    config.include(".events")
    config.include(".users")
    config.include(".api")

    # Request hardening (outermost tween: body limit, security headers, CORS, log
    # redaction), idempotency keys (a tween claiming keys outside pyramid_tm and one
    # recording answers inside it) and per-route rate limits (after routing).
    config.include(".http")
    config.include(".idempotency")
    config.include(".ratelimit")

    prefix = config.route_prefix or settings["banter_payments.route_prefix"]
    with config.route_prefix_context(None if config.route_prefix else prefix):
        # The configuration hooks plugins and host apps use (add_asset,
        # add_catalog_item, add_webhook_handler), then the features built on them.
        config.include(".catalog")
        config.include(".ledger")
        config.include(".gateway")
        config.include(".payments")
        config.include(".orders")
        config.include(".webhooks")
        config.include(".refunds")
        config.include(".reconcile")
        config.include(".outbox")
        config.include(".wallet")
        config.include(".health")
        config.include(".metrics")
        config.include(".alerts")
        config.include(".openapi")
        if settings["razorpay.mode"] == "sandbox":
            config.include(".sandbox")

        # Plugins come after the core is committed, so they extend it (and may
        # override it) without conflicting with it, as Kinto does with kinto.includes.
        config.commit()
        for plugin in settings["banter_payments.plugins"]:
            config.include(plugin)

    # The demo client, at /demo/ beside the API rather than under its prefix.
    if settings["razorpay.mode"] == "sandbox":
        config.include(".demo")

