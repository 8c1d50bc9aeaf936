"""Three kinds of response: the page (told where the API and ``checkout.js`` live), its
static files, and a redirect from ``/demo`` to ``/demo/``."""

from __future__ import annotations

import html
from importlib import resources

from pyramid.config import Configurator
from pyramid.httpexceptions import HTTPFound, HTTPNotFound
from pyramid.request import Request
from pyramid.response import Response
from pyramid.security import NO_PERMISSION_REQUIRED

# The page loads only its own files and the sandbox's Checkout (same origin, framed).
PAGE_CSP = (
    "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
    "connect-src 'self'; frame-src 'self'; form-action 'none'; base-uri 'none'; "
    "frame-ancestors 'none'"
)
CONTENT_TYPES = {".js": "text/javascript", ".css": "text/css", ".svg": "image/svg+xml"}


def load_files() -> dict[str, bytes]:
    folder = resources.files(__package__).joinpath("static")
    return {item.name: item.read_bytes() for item in folder.iterdir() if item.is_file()}


def api_base(request: Request) -> str:
    """The REST API's path, wherever the app mounted it (``/api/payments`` by default)."""
    return request.route_path("payments.health").removesuffix("/health")


def checkout_script(request: Request) -> str:
    return request.route_path("payments.sandbox.razorpay", subpath=("v1", "checkout.js"))


def includeme(config: Configurator) -> None:
    files = load_files()
    page = files.pop("index.html").decode("utf-8")

    def index(request: Request) -> Response:
        body = page.replace("{{api}}", html.escape(api_base(request))).replace(
            "{{checkout}}", html.escape(checkout_script(request))
        )
        response = Response(body=body.encode("utf-8"), content_type="text/html",
                            charset="utf-8")
        response.headers["Content-Security-Policy"] = PAGE_CSP
        response.headers["Cache-Control"] = "no-cache"
        return response

    def asset(request: Request) -> Response:
        name = request.matchdict["name"]
        suffix = name[name.rfind("."):] if "." in name else ""
        if name not in files or suffix not in CONTENT_TYPES:
            return HTTPNotFound()
        response = Response(body=files[name], content_type=CONTENT_TYPES[suffix],
                            charset="utf-8")
        response.headers["Cache-Control"] = "no-cache"
        return response

    def redirect(request: Request) -> Response:
        return HTTPFound(location=request.route_path("demo.index"))

    for name, pattern, view in [
        ("demo.index", "/demo/", index),
        ("demo.redirect", "/demo", redirect),
        ("demo.asset", "/demo/assets/{name}", asset),
    ]:
        config.add_route(name, pattern, request_method="GET")
        config.add_view(view, route_name=name, permission=NO_PERMISSION_REQUIRED)
