"""The emulator's HTTP surface: Razorpay's v1 routes plus two customer simulations.

``/v1/...`` needs HTTP basic auth with the sandbox key, like Razorpay. ``/checkout/...``
and ``/payments/{id}/late_authorize`` stand for things that happen outside the API (the
customer at Razorpay Checkout, the bank confirming late) and take no key.
"""

from __future__ import annotations

import base64
import binascii
import functools
import hmac
import json
import logging
from collections.abc import Callable
from typing import Any

from pyramid.config import Configurator
from pyramid.request import Request
from pyramid.response import Response

from .config import APP_URL_ENVIRON_KEY, SERVICE_KEY
from .errors import SERVER_ERROR, URL_NOT_FOUND, RazorpayError, unauthorized
from .services import IDEMPOTENCY_HEADER, SandboxService
from .validation import MAX_BODY_BYTES, parse_json_body, parse_object

log = logging.getLogger(__name__)

# Query parameters Razorpay accepts on the GET routes; the emulator ignores them.
ALLOWED_QUERY = frozenset({"expand[]"})


def _service(request: Request) -> SandboxService:
    return request.registry[SERVICE_KEY]


def _json(data: Any, status: int = 200) -> Response:
    return Response(
        body=json.dumps(data).encode("utf-8"), status=status, content_type="application/json"
    )


def _body(request: Request) -> Any:
    if (request.content_length or 0) > MAX_BODY_BYTES:
        raise RazorpayError("The request body is too large")
    return parse_json_body(request.body)


def notify_url(request: Request) -> str:
    """Where webhooks raised by this request go.

    ``sandbox.webhook_url`` when set; else the app that mounts the emulator (its URL
    arrives in the environ), or, served alone or through the in-process transport, the
    host this request was addressed to; plus ``sandbox.webhook_path``.
    """
    config = _service(request).config
    if config.webhook_url:
        return config.webhook_url
    base = request.environ.get(APP_URL_ENVIRON_KEY) or f"{request.scheme}://{request.host}"
    return base.rstrip("/") + config.webhook_path


def _authenticate(request: Request) -> None:
    config = _service(request).config
    scheme, _, value = request.headers.get("Authorization", "").partition(" ")
    if scheme.lower() != "basic":
        raise unauthorized()
    try:
        decoded = base64.b64decode(value.strip(), validate=True).decode("utf-8")
    except (binascii.Error, UnicodeDecodeError):
        raise unauthorized() from None
    key_id, separator, key_secret = decoded.partition(":")
    id_ok = hmac.compare_digest(key_id.encode(), config.key_id.encode())
    secret_ok = hmac.compare_digest(key_secret.encode(), config.key_secret.encode())
    if not (separator and id_ok and secret_ok):
        raise unauthorized()


def api(view: Callable[[Request], Any]) -> Callable[[Request], Response]:
    """A ``/v1`` view: basic auth first, no unknown query parameters, a JSON answer."""

    @functools.wraps(view)
    def wrapper(request: Request) -> Response:
        _authenticate(request)
        try:
            names = list(request.GET)
        except UnicodeDecodeError:
            raise RazorpayError("The query string is not valid UTF-8") from None
        unknown = [name for name in names if name not in ALLOWED_QUERY]
        if unknown:
            raise RazorpayError(
                f"{', '.join(unknown)} is/are not required and should not be sent",
                field=unknown[0],
            )
        return _json(view(request))

    return wrapper


@api
def create_order(request: Request) -> Any:
    return _service(request).create_order(_body(request))


@api
def get_order(request: Request) -> Any:
    return _service(request).get_order(request.matchdict["id"])


@api
def order_payments(request: Request) -> Any:
    return _service(request).order_payments(request.matchdict["id"])


@api
def get_payment(request: Request) -> Any:
    return _service(request).get_payment(request.matchdict["id"])


@api
def capture_payment(request: Request) -> Any:
    return _service(request).capture(
        request.matchdict["id"], _body(request), notify_url=notify_url(request)
    )


@api
def refund_payment(request: Request) -> Any:
    return _service(request).refund(
        request.matchdict["id"],
        _body(request),
        idempotency_key=request.headers.get(IDEMPOTENCY_HEADER),
        notify_url=notify_url(request),
    )


@api
def payment_refunds(request: Request) -> Any:
    return _service(request).payment_refunds(request.matchdict["id"])


@api
def get_refund(request: Request) -> Any:
    return _service(request).get_refund(request.matchdict["id"])


def checkout_pay(request: Request) -> Response:
    """The customer pays (or fails to) at Razorpay Checkout; answered as Checkout would."""
    result = _service(request).pay(
        request.matchdict["order_id"], _body(request), notify_url=notify_url(request)
    )
    return _json(result)


def late_authorize(request: Request) -> Response:
    parse_object(_body(request), {})
    result = _service(request).late_authorize(
        request.matchdict["id"], notify_url=notify_url(request)
    )
    return _json(result)


def not_found(request: Request) -> Response:
    """Razorpay checks the key before it looks at the URL."""
    error = RazorpayError(URL_NOT_FOUND)
    if request.path_info.startswith("/v1/"):
        try:
            _authenticate(request)
        except RazorpayError as exc:
            error = exc
    return _json(error.envelope(), status=error.status)


def razorpay_error(exc: RazorpayError, request: Request) -> Response:
    return _json(exc.envelope(), status=exc.status)


def unexpected_error(exc: Exception, request: Request) -> Response:
    log.exception("sandbox emulator failed on %s %s", request.method, request.path_qs)
    error = RazorpayError(
        "The server encountered an error. The incident has been reported to admins.",
        status=500,
        code=SERVER_ERROR,
        source="NA",
        step="NA",
        reason="NA",
    )
    return _json(error.envelope(), status=500)


ROUTES: list[tuple[str, str, str, Callable[[Request], Response]]] = [
    ("orders.create", "/v1/orders", "POST", create_order),
    ("orders.get", "/v1/orders/{id}", "GET", get_order),
    ("orders.payments", "/v1/orders/{id}/payments", "GET", order_payments),
    ("payments.get", "/v1/payments/{id}", "GET", get_payment),
    ("payments.capture", "/v1/payments/{id}/capture", "POST", capture_payment),
    ("payments.refund", "/v1/payments/{id}/refund", "POST", refund_payment),
    ("payments.refunds", "/v1/payments/{id}/refunds", "GET", payment_refunds),
    ("refunds.get", "/v1/refunds/{id}", "GET", get_refund),
    ("checkout.pay", "/checkout/{order_id}/pay", "POST", checkout_pay),
    ("payments.late_authorize", "/payments/{id}/late_authorize", "POST", late_authorize),
]


def includeme(config: Configurator) -> None:
    for name, pattern, method, view in ROUTES:
        config.add_route(name, pattern, request_method=method)
        config.add_view(view, route_name=name)
    config.add_notfound_view(not_found)
    config.add_exception_view(razorpay_error, context=RazorpayError)
    config.add_exception_view(unexpected_error, context=Exception)
