"""Security headers on every response, and CORS for the configured origins only.

Every response says ``nosniff``, refuses framing and sends no referrer. A response
with no Content-Security-Policy of its own gets one: JSON (and anything that is not a
page) ``default-src 'none'; frame-ancestors 'none'`` (it loads nothing), an HTML page
(the sandbox's) a policy that allows only its own origin. HSTS is sent only when the
deployment says it is served over HTTPS (``banter_payments.https``), because a browser
that sees it over plain HTTP on a development machine remembers it.

CORS: ``cors.allowed_origins`` lists exact origins (``https://app.example.com``); an
empty list (the default) sends no CORS header at all. A preflight ``OPTIONS`` from an
allowed origin is answered here (204); from any other origin it gets no CORS headers,
so the browser refuses the real request. The API authenticates with bearer tokens, not
cookies, so credentials are never allowed.
"""

from __future__ import annotations

from pyramid.request import Request
from pyramid.response import Response

API_CSP = "default-src 'none'; frame-ancestors 'none'"
PAGE_CSP = (
    "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
    "connect-src 'self'; form-action 'self'; base-uri 'none'; frame-ancestors 'none'"
)
HSTS = "max-age=31536000; includeSubDomains"

CORS_METHODS = ("GET", "POST", "OPTIONS")
CORS_REQUEST_HEADERS = ("authorization", "content-type", "idempotency-key")
CORS_EXPOSED_HEADERS = "Retry-After, Idempotent-Replayed, Location"


def add_security_headers(response: Response, *, https: bool) -> None:
    headers = response.headers
    headers["X-Content-Type-Options"] = "nosniff"
    headers["X-Frame-Options"] = "DENY"
    headers["Referrer-Policy"] = "no-referrer"
    if "Content-Security-Policy" not in headers:
        page = (response.content_type or "").startswith("text/html")
        headers["Content-Security-Policy"] = PAGE_CSP if page else API_CSP
    if https:
        headers["Strict-Transport-Security"] = HSTS


def normalize_origin(origin: str) -> str:
    return origin.strip().rstrip("/").lower()


def allowed_origin(request: Request, allowed: frozenset[str]) -> str | None:
    """The request's Origin if it is one of ``allowed``, else None."""
    origin = request.headers.get("Origin")
    if not origin or not allowed:
        return None
    return origin if normalize_origin(origin) in allowed else None


def is_preflight(request: Request) -> bool:
    return (request.method == "OPTIONS" and "Origin" in request.headers
            and "Access-Control-Request-Method" in request.headers)


def preflight_response(request: Request, origin: str, max_age: int) -> Response:
    """204 for a preflight from an allowed origin, naming only what the API accepts."""
    response = Response(status=204)
    method = request.headers["Access-Control-Request-Method"].strip().upper()
    asked = [h.strip().lower() for h in
             request.headers.get("Access-Control-Request-Headers", "").split(",") if h.strip()]
    response.headers["Access-Control-Allow-Origin"] = origin
    if method in CORS_METHODS:
        response.headers["Access-Control-Allow-Methods"] = ", ".join(CORS_METHODS)
    granted = [h for h in asked if h in CORS_REQUEST_HEADERS]
    if granted:
        response.headers["Access-Control-Allow-Headers"] = ", ".join(granted)
    response.headers["Access-Control-Max-Age"] = str(max_age)
    add_vary_origin(response)
    return response


def add_cors_headers(response: Response, origin: str) -> None:
    response.headers["Access-Control-Allow-Origin"] = origin
    response.headers["Access-Control-Expose-Headers"] = CORS_EXPOSED_HEADERS
    add_vary_origin(response)


def add_vary_origin(response: Response) -> None:
    """The answer depends on Origin whenever CORS is configured: tell caches."""
    current = tuple(response.vary or ())
    if "Origin" not in current:
        response.vary = current + ("Origin",)
