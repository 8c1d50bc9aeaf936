"""The one error shape of API.md, and the exception views that produce it.

Views and services raise an ``APIError`` subclass; an exception view renders
``{"error": {"code", "message", "details"}}`` with the right status. Pyramid's own HTTP
exceptions (404 for an unknown route, 405, 403 from the security policy) are rendered in
the same shape. Anything else is a bug: it is logged with its traceback and answered as a
500 that reveals nothing, except a database that cannot be reached, is out of
connections or whose pool is exhausted: that is a 503 with ``Retry-After`` (on the webhook
route too, so Razorpay delivers again), never a 500.
"""

from __future__ import annotations

import logging
from typing import Any

from pyramid.exceptions import URLDecodeError
from pyramid.httpexceptions import HTTPException, HTTPForbidden
from pyramid.request import Request
from pyramid.response import Response
from sqlalchemy import exc as sa_exc

log = logging.getLogger(__name__)


class APIError(Exception):
    status = 400
    code = "bad_request"
    message = "The request could not be processed."

    def __init__(self, message: str | None = None, *, details: dict[str, Any] | None = None,
                 headers: dict[str, str] | None = None):
        self.message = message or self.message
        self.details = details or {}
        self.headers = headers or {}
        super().__init__(self.message)


class ValidationFailed(APIError):
    status = 400
    code = "validation_failed"
    message = "The request does not match the schema."


class SignatureInvalid(APIError):
    status = 400
    code = "signature_invalid"
    message = "The signature does not verify."


class Unauthenticated(APIError):
    status = 401
    code = "unauthenticated"
    message = "A valid bearer token is required."


class Forbidden(APIError):
    status = 403
    code = "forbidden"
    message = "You are not allowed to do this."


class NotFound(APIError):
    status = 404
    code = "not_found"
    message = "No such object."


class MethodNotAllowed(APIError):
    status = 405
    code = "method_not_allowed"
    message = "This method is not allowed here."


class Conflict(APIError):
    status = 409
    code = "conflict"
    message = "The object's state does not allow this."


class PayloadTooLarge(APIError):
    status = 413
    code = "payload_too_large"
    message = "The request body is too large."


class UnsupportedMediaType(APIError):
    status = 415
    code = "unsupported_media_type"
    message = "Send the body as application/json."


class InsufficientFunds(APIError):
    status = 422
    code = "insufficient_funds"
    message = "The balance is too low for this."


class RateLimited(APIError):
    status = 429
    code = "rate_limited"
    message = "Too many requests; slow down."


class GatewayError(APIError):
    status = 502
    code = "gateway_error"
    message = "The payment gateway failed or timed out."


class ServiceUnavailable(APIError):
    status = 503
    code = "service_unavailable"
    message = "The service is temporarily unavailable."


class DatabaseUnavailable(ServiceUnavailable):
    message = "The database is unavailable or out of connections; try again shortly."


# What a database that is down, unreachable or out of connections raises: the driver's
# connection errors (``FATAL: sorry, too many clients already``, refused, reset), and
# the pool's own timeout when every connection of the pool is in use.
DATABASE_UNAVAILABLE = (sa_exc.OperationalError, sa_exc.InterfaceError, sa_exc.TimeoutError)
DATABASE_RETRY_AFTER_SECONDS = 5


def database_unavailable_response(request: Request, exc: Exception) -> Response:
    log.warning("database unavailable on %s %s: %s", request.method,
                request.environ.get("PATH_INFO"), _first_line(exc))
    error = DatabaseUnavailable()
    return error_response(request, error.status, error.code, error.message,
                          headers={"Retry-After": str(DATABASE_RETRY_AFTER_SECONDS)})


def _first_line(exc: Exception) -> str:
    text = str(getattr(exc, "orig", None) or exc).strip()
    return f"{type(exc).__name__}: {text.splitlines()[0] if text else ''}"[:300]


def error_body(code: str, message: str, details: dict[str, Any] | None = None) -> dict:
    return {"error": {"code": code, "message": message, "details": details or {}}}


def error_response(request: Request, status: int, code: str, message: str,
                   details: dict[str, Any] | None = None,
                   headers: dict[str, str] | None = None) -> Response:
    response = Response(status=status, json_body=error_body(code, message, details),
                        charset="utf-8")
    response.content_type = "application/json"
    for name, value in (headers or {}).items():
        response.headers[name] = value
    return response


def api_error_view(exc: APIError, request: Request) -> Response:
    if exc.status >= 500:
        log.warning("%s: %s", exc.code, exc.message)
    return error_response(request, exc.status, exc.code, exc.message, exc.details, exc.headers)


def forbidden_view(exc: HTTPForbidden, request: Request) -> Response:
    """The security policy denied the view: 401 without identity, 403 with one."""
    if request.authenticated_userid is None:
        error = Unauthenticated(getattr(request, "auth_failure", None))
        return api_error_view(error, request)
    return api_error_view(Forbidden(), request)


def http_exception_view(exc: HTTPException, request: Request) -> Response:
    if exc.code == 405:
        return api_error_view(MethodNotAllowed(), request)
    code = exc.title.lower().replace(" ", "_")
    return error_response(request, exc.code, code, exc.title, headers=dict(exc.headers))


def undecodable_url_view(exc: URLDecodeError, request: Request) -> Response:
    return api_error_view(ValidationFailed("The URL is not valid UTF-8."), request)


def database_unavailable_view(exc: Exception, request: Request) -> Response:
    return database_unavailable_response(request, exc)


def unexpected_error_view(exc: Exception, request: Request) -> Response:
    log.error("unhandled error on %s %s", request.method, request.environ.get("PATH_INFO"),
              exc_info=exc)
    return error_response(request, 500, "internal_error", "Something went wrong on our side.")


def includeme(config) -> None:
    config.add_exception_view(api_error_view, context=APIError)
    config.add_forbidden_view(forbidden_view)
    config.add_exception_view(http_exception_view, context=HTTPException)
    config.add_exception_view(undecodable_url_view, context=URLDecodeError)
    for context in DATABASE_UNAVAILABLE:
        config.add_exception_view(database_unavailable_view, context=context)
    config.add_exception_view(unexpected_error_view, context=Exception)
