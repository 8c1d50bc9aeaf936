"""How the emulator sits inside the app: its path, and where its webhooks come back to."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from pyramid.request import Request
from pyramid.response import Response
from pyramid.wsgi import wsgiapp2

from .config import APP_URL_ENVIRON_KEY


def webhook_path(route_prefix: str | None) -> str:
    """The app's webhook route under ``route_prefix``, as the emulator should call it."""
    prefix = (route_prefix or "").strip("/")
    return f"/{prefix}/webhooks/razorpay" if prefix else "/webhooks/razorpay"


def mounted(emulator: Any) -> Callable[[Any, Request], Response]:
    """A view serving ``emulator`` under the route's subpath.

    It tells the emulator where this app lives (its scheme, host and script name), so
    the webhooks a checkout raises come back to this app whatever it is mounted under.
    """
    serve = wsgiapp2(emulator)

    def sandbox_razorpay(context: Any, request: Request) -> Response:
        request.environ[APP_URL_ENVIRON_KEY] = request.application_url
        return serve(context, request)

    return sandbox_razorpay
