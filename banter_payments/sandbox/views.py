"""The emulator's HTTP surface: Razorpay's v1 routes plus the sandbox's own.

``/v1/...`` needs HTTP basic auth with the sandbox key, like Razorpay, and may suffer
the faults of the current plan (``faults.py``). ``/checkout/...`` and
``/payments/{id}/late_authorize`` stand for things that happen outside the API (the
customer at Razorpay Checkout, the bank confirming late); ``/`` describes the sandbox
(its keys and routes) and ``/faults`` sets the faults; none of these takes a key.

Every request is logged (method, path, status, duration) by ``access_tween``, which also
accepts a trailing slash as Razorpay does.
"""

from __future__ import annotations

import base64
import binascii
import functools
import hmac
import json
import logging
import time
from collections.abc import Callable
from typing import Any

from pyramid.config import Configurator
from pyramid.request import Request
from pyramid.response import Response

from .config import APP_URL_ENVIRON_KEY, SERVICE_KEY
from .errors import SERVER_ERROR, URL_NOT_FOUND, RazorpayError, unauthorized
from .faults import FaultPlanError, parse_plan
from .services import IDEMPOTENCY_HEADER, SandboxService
from .validation import MAX_BODY_BYTES, parse_body, parse_object

log = logging.getLogger(__name__)
# One line per API call, for a developer watching the standalone sandbox.
access_log = logging.getLogger("banter_payments.sandbox.api")

EXPAND = "expand[]"


def _service(request: Request) -> SandboxService:
    return request.registry[SERVICE_KEY]


def _json(data: Any, status: int = 200) -> Response:
    return Response(
        body=json.dumps(data).encode("utf-8"), status=status, content_type="application/json"
    )


def _body(request: Request) -> Any:
    if (request.content_length or 0) > MAX_BODY_BYTES:
        raise RazorpayError("The request body is too large")
    return parse_body(request.body, request.content_type)


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


def _query(request: Request) -> tuple[dict[str, str], list[str]]:
    """The query string as Razorpay reads it: ``expand[]`` may repeat, the rest once."""
    try:
        items = list(request.GET.items())
    except UnicodeDecodeError:
        raise RazorpayError("The query string is not valid UTF-8") from None
    expand = [value for name, value in items if _is_expand(name)]
    return {name: value for name, value in items if not _is_expand(name)}, expand


def _is_expand(name: str) -> bool:
    """``expand[]``, and the spellings other SDKs' query encoders make of it: the Node
    SDK's axios sends ``expand[expand][0]=card``."""
    return name == "expand" or (name.startswith("expand[") and name.endswith("]"))


def api(*, collection: bool = False) -> Callable[[Callable[..., Any]], Callable[[Request], Any]]:
    """A ``/v1`` view ``(request, query, expand)``: basic auth first, then the fault plan,
    then the view; its answer is JSON. Only collections take query parameters other
    than ``expand[]``."""

    def decorate(view: Callable[..., Any]) -> Callable[[Request], Response]:
        @functools.wraps(view)
        def wrapper(request: Request) -> Response:
            _authenticate(request)
            query, expand = _query(request)
            if query and not collection:
                unknown = list(query)
                raise RazorpayError(
                    f"{', '.join(unknown)} is/are not required and should not be sent",
                    field=unknown[0],
                )
            return _json(under_faults(request, lambda: view(request, query, expand)))

        return wrapper

    return decorate


def under_faults(request: Request, call: Callable[[], Any]) -> Any:
    """``call()`` under the fault plan's decision for this route: delayed, refused
    with an injected error (not done), or timing out before or after doing it."""
    fault = _service(request).faults.decide(request.matched_route.name)
    if fault.delay:
        time.sleep(fault.delay)
    if fault.status is not None:
        log.info("sandbox fault: %s answers %d", request.matched_route.name,
                 fault.status)
        raise fault.error()
    if fault.timeout == "before":
        log.info("sandbox fault: %s times out (not done)", request.matched_route.name)
        time.sleep(fault.timeout_seconds)
        raise fault.error()
    result = call()
    if fault.timeout == "after":
        log.info("sandbox fault: %s times out (done)", request.matched_route.name)
        time.sleep(fault.timeout_seconds)
    return result


def _id(request: Request, name: str = "id") -> str:
    return request.matchdict[name]


@api(collection=True)
def list_orders(request: Request, query: dict, expand: list) -> Any:
    return _service(request).list_orders(query, expand)


@api()
def create_order(request: Request, query: dict, expand: list) -> Any:
    return _service(request).create_order(_body(request))


@api()
def get_order(request: Request, query: dict, expand: list) -> Any:
    return _service(request).get_order(_id(request))


@api()
def edit_order(request: Request, query: dict, expand: list) -> Any:
    return _service(request).edit_order(_id(request), _body(request))


@api()
def order_payments(request: Request, query: dict, expand: list) -> Any:
    return _service(request).order_payments(_id(request), expand)


@api(collection=True)
def list_payments(request: Request, query: dict, expand: list) -> Any:
    return _service(request).list_payments(query, expand)


@api()
def get_payment(request: Request, query: dict, expand: list) -> Any:
    return _service(request).get_payment(_id(request), expand)


@api()
def edit_payment(request: Request, query: dict, expand: list) -> Any:
    return _service(request).edit_payment(_id(request), _body(request))


@api()
def payment_card(request: Request, query: dict, expand: list) -> Any:
    return _service(request).payment_card(_id(request))


@api()
def get_card(request: Request, query: dict, expand: list) -> Any:
    return _service(request).get_card(_id(request))


@api()
def capture_payment(request: Request, query: dict, expand: list) -> Any:
    return _service(request).capture(
        _id(request), _body(request), notify_url=notify_url(request)
    )


@api()
def refund_payment(request: Request, query: dict, expand: list) -> Any:
    return _service(request).refund(
        _id(request),
        _body(request),
        idempotency_key=request.headers.get(IDEMPOTENCY_HEADER),
        notify_url=notify_url(request),
    )


@api(collection=True)
def payment_refunds(request: Request, query: dict, expand: list) -> Any:
    return _service(request).payment_refunds(_id(request), query)


@api()
def payment_refund(request: Request, query: dict, expand: list) -> Any:
    return _service(request).payment_refund(_id(request), _id(request, "refund_id"))


@api(collection=True)
def list_refunds(request: Request, query: dict, expand: list) -> Any:
    return _service(request).list_refunds(query)


@api()
def create_refund(request: Request, query: dict, expand: list) -> Any:
    return _service(request).create_refund(
        _body(request),
        idempotency_key=request.headers.get(IDEMPOTENCY_HEADER),
        notify_url=notify_url(request),
    )


@api()
def get_refund(request: Request, query: dict, expand: list) -> Any:
    return _service(request).get_refund(_id(request))


@api()
def edit_refund(request: Request, query: dict, expand: list) -> Any:
    return _service(request).edit_refund(_id(request), _body(request))


@api(collection=True)
def list_customers(request: Request, query: dict, expand: list) -> Any:
    return _service(request).list_customers(query)


@api()
def create_customer(request: Request, query: dict, expand: list) -> Any:
    return _service(request).create_customer(_body(request))


@api()
def get_customer(request: Request, query: dict, expand: list) -> Any:
    return _service(request).get_customer(_id(request))


@api()
def edit_customer(request: Request, query: dict, expand: list) -> Any:
    return _service(request).edit_customer(_id(request), _body(request))


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


def describe(request: Request) -> Response:
    """``GET /``: what a developer needs to point an SDK at this sandbox."""
    config = _service(request).config
    base = request.application_url.rstrip("/")
    return _json({
        "service": "Razorpay sandbox (banter-payments)",
        "base_url": base,
        "key_id": config.key_id,
        "key_secret": config.key_secret,
        "webhook_secret": config.webhook_secret,
        # Fixed, or (null) the host of the app that made the call plus ``webhook_path``.
        "webhook_url": config.webhook_url,
        "webhook_path": config.webhook_path,
        "sdk": {
            "python": f"razorpay.Client(auth=(KEY_ID, KEY_SECRET), base_url={base!r})",
            "node": f"instance.api.rq.defaults.baseURL = {base!r}",
        },
        "routes": {
            "checkout": f"POST {base}/checkout/{{order_id}}/pay",
            "late_authorize": f"POST {base}/payments/{{payment_id}}/late_authorize",
            "faults": f"GET|POST|DELETE {base}/faults",
        },
        "api": [f"{method} {base}{pattern}" for _, pattern, method, _ in ROUTES
                if pattern.startswith("/v1/")],
    })


def get_faults(request: Request) -> Response:
    return _json(_service(request).faults.plan.as_dict())


def set_faults(request: Request) -> Response:
    """``POST /faults``: replace the fault plan (``{}`` turns every fault off)."""
    faults = _service(request).faults
    try:
        plan = parse_plan(_body(request), endpoint_names())
    except FaultPlanError as exc:
        raise RazorpayError(str(exc), field="faults") from None
    faults.set(plan)
    log.info("sandbox faults set: %s", plan.as_dict())
    return _json(plan.as_dict())


def reset_faults(request: Request) -> Response:
    """``DELETE /faults``: back to the plan the settings describe."""
    faults = _service(request).faults
    faults.reset()
    return _json(faults.plan.as_dict())


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
    ("orders.list", "/v1/orders", "GET", list_orders),
    ("orders.create", "/v1/orders", "POST", create_order),
    ("orders.get", "/v1/orders/{id}", "GET", get_order),
    ("orders.edit", "/v1/orders/{id}", "PATCH", edit_order),
    ("orders.payments", "/v1/orders/{id}/payments", "GET", order_payments),
    ("payments.list", "/v1/payments", "GET", list_payments),
    ("payments.get", "/v1/payments/{id}", "GET", get_payment),
    ("payments.edit", "/v1/payments/{id}", "PATCH", edit_payment),
    ("payments.card", "/v1/payments/{id}/card", "GET", payment_card),
    ("cards.get", "/v1/cards/{id}", "GET", get_card),
    ("payments.capture", "/v1/payments/{id}/capture", "POST", capture_payment),
    ("payments.refund", "/v1/payments/{id}/refund", "POST", refund_payment),
    ("payments.refunds", "/v1/payments/{id}/refunds", "GET", payment_refunds),
    ("payments.refunds.get", "/v1/payments/{id}/refunds/{refund_id}", "GET", payment_refund),
    ("refunds.list", "/v1/refunds", "GET", list_refunds),
    ("refunds.create", "/v1/refunds", "POST", create_refund),
    ("refunds.get", "/v1/refunds/{id}", "GET", get_refund),
    ("refunds.edit", "/v1/refunds/{id}", "PATCH", edit_refund),
    ("customers.list", "/v1/customers", "GET", list_customers),
    ("customers.create", "/v1/customers", "POST", create_customer),
    ("customers.get", "/v1/customers/{id}", "GET", get_customer),
    ("customers.edit", "/v1/customers/{id}", "PUT", edit_customer),
    ("checkout.pay", "/checkout/{order_id}/pay", "POST", checkout_pay),
    ("payments.late_authorize", "/payments/{id}/late_authorize", "POST", late_authorize),
    ("sandbox.describe", "/", "GET", describe),
    ("sandbox.faults.get", "/faults", "GET", get_faults),
    ("sandbox.faults.set", "/faults", "POST", set_faults),
    ("sandbox.faults.reset", "/faults", "DELETE", reset_faults),
]
# The API endpoints a fault rule can name.
ENDPOINTS = tuple(name for name, pattern, _, _ in ROUTES if pattern.startswith("/v1/"))


def endpoint_names() -> tuple[str, ...]:
    """Every ``/v1`` route a fault rule may name: these and the Subscriptions API's."""
    from .subscriptions import ROUTES as SUBSCRIPTION_ROUTES  # it imports this module

    return ENDPOINTS + tuple(name for name, pattern, _, _ in SUBSCRIPTION_ROUTES
                             if pattern.startswith("/v1/"))


def access_tween(handler: Callable[[Request], Response], registry: Any
                 ) -> Callable[[Request], Response]:
    """Accept a trailing slash (``/v1/orders/`` is ``/v1/orders``, as at Razorpay) and
    log every request: method, path, status, milliseconds."""

    def tween(request: Request) -> Response:
        started = time.perf_counter()
        if len(request.path_info) > 1 and request.path_info.endswith("/"):
            request.path_info = request.path_info.rstrip("/") or "/"
        response = handler(request)
        access_log.info("%s %s %d %.0fms", request.method, request.path_info,
                        response.status_code, (time.perf_counter() - started) * 1000)
        return response

    return tween


def includeme(config: Configurator) -> None:
    for name, pattern, method, view in ROUTES:
        config.add_route(name, pattern, request_method=method)
        config.add_view(view, route_name=name)
    config.add_notfound_view(not_found)
    config.add_exception_view(razorpay_error, context=RazorpayError)
    config.add_exception_view(unexpected_error, context=Exception)
    config.add_tween("banter_payments.sandbox.views.access_tween")
