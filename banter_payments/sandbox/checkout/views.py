"""The Checkout's routes inside the emulator: the script, the modal's page, its two calls,
and Razorpay's two card routes.

The script and the modal are served by the emulator itself, as Razorpay serves them
from its own hosts: mounted in the app they live under ``/_sandbox/razorpay``, served
alone by ``banter-sandbox`` at its root, and a front end switches by changing only the
script's URL. The modal may be framed by any page (``frame-ancestors *``), like
Razorpay's; its calls are same-origin and take the public key id, never the secret.
"""

from __future__ import annotations

import json
from importlib import resources
from typing import Any

from pyramid.config import Configurator
from pyramid.request import Request
from pyramid.response import Response

from ..views import _body, api, notify_url
from .services import CheckoutService

CHECKOUT_KEY = "banter_payments.sandbox.checkout"
FRAME_CSP = (
    "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data: https: "
    "http:; connect-src 'self'; form-action 'none'; base-uri 'none'; frame-ancestors *"
)
# name -> content type; read once, when the emulator is built.
ASSETS = {
    "checkout.js": "text/javascript",
    "frame.html": "text/html",
    "frame.js": "text/javascript",
    "frame.css": "text/css",
}


def _checkout(request: Request) -> CheckoutService:
    return request.registry[CHECKOUT_KEY]


def _json(data: Any) -> Response:
    return Response(body=json.dumps(data).encode("utf-8"), content_type="application/json")


def load_assets() -> dict[str, bytes]:
    folder = resources.files(__package__).joinpath("static")
    return {name: folder.joinpath(name).read_bytes() for name in ASSETS}


def asset_view(assets: dict[str, bytes], name: str):
    """A view answering one static file; the modal's page with its own CSP."""

    def view(request: Request) -> Response:
        response = Response(body=assets[name], content_type=ASSETS[name], charset="utf-8")
        response.headers["Cache-Control"] = "no-cache"
        if name == "frame.html":
            response.headers["Content-Security-Policy"] = FRAME_CSP
        return response

    return view


def preferences(request: Request) -> Response:
    return _json(_checkout(request).preferences(_body(request)))


def pay(request: Request) -> Response:
    return _json(_checkout(request).pay(_body(request), notify_url=notify_url(request)))


@api()
def get_card(request: Request, _query: dict, _expand: list) -> Any:
    return _checkout(request).card(request.matchdict["id"])


def includeme(config: Configurator) -> None:
    from ..config import SERVICE_KEY

    config.registry[CHECKOUT_KEY] = CheckoutService(config.registry[SERVICE_KEY])
    assets = load_assets()
    static = [
        ("checkout.script", "/v1/checkout.js", "checkout.js"),
        ("checkout.frame", "/checkout/frame", "frame.html"),
        ("checkout.frame_js", "/checkout/assets/frame.js", "frame.js"),
        ("checkout.frame_css", "/checkout/assets/frame.css", "frame.css"),
    ]
    for name, pattern, filename in static:
        config.add_route(name, pattern, request_method="GET")
        config.add_view(asset_view(assets, filename), route_name=name)
    for name, pattern, method, view in [
        ("checkout.preferences", "/checkout/preferences", "POST", preferences),
        ("checkout.payments", "/checkout/payments", "POST", pay),
        ("cards.get", "/v1/cards/{id}", "GET", get_card),
    ]:
        config.add_route(name, pattern, request_method=method)
        config.add_view(view, route_name=name)
