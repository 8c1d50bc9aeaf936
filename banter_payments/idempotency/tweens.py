"""The two tweens that give POSTs their ``Idempotency-Key`` semantics.

``claim_tween`` sits outside pyramid_tm. It claims the key in its own short, committed
transaction before the request's transaction begins (so a duplicate sees the claim at
once and gets 409), replays a completed answer, and after the request either stores an
error answer worth replaying or releases the key.

``record_tween`` sits inside pyramid_tm. For a successful answer it stores the response
on the claimed row in the request's own transaction, so the work and the stored answer
commit together or not at all: there is no moment at which the work is committed but a
retry of the same key would run it again.

pyramid_retry replays a request that lost a serialization race as a new attempt with a
new request object but the same WSGI environ. The claim token lives in the environ, so
the next attempt re-enters its own claim instead of finding the key "in use", and an
attempt that will be retried neither stores nor releases anything.
"""

from __future__ import annotations

import json
import logging
import secrets

from pyramid.interfaces import IRoutesMapper
from pyramid.request import Request
from pyramid.response import Response
from pyramid_retry import is_error_retryable
from sqlalchemy.exc import SQLAlchemyError

from ..clock import utcnow
from ..db import mark_written
from ..errors import ValidationFailed, database_unavailable_response, error_response
from . import services
from .services import REPLAYED_HEADERS, StoredResponse

log = logging.getLogger(__name__)

CLAIM_TWEEN = "banter_payments.idempotency.tweens.claim_tween_factory"
RECORD_TWEEN = "banter_payments.idempotency.tweens.record_tween_factory"

HEADER = "Idempotency-Key"
REPLAYED = "Idempotent-Replayed"
TOKEN = "banter_payments.idempotency.token"
ACTIVE = "banter_payments.idempotency.active"
RECORDED = "banter_payments.idempotency.recorded"

# Routes whose callers never send the header and whose own deduplication is better:
# Razorpay's webhooks deduplicate on X-Razorpay-Event-Id.
EXEMPT_ROUTE_PREFIXES = ("payments.webhooks.",)

# Answers that mean the operation never started (or may not have finished), so the
# same key must be usable again: nothing is stored and the claim is released.
UNSTORED_STATUSES = frozenset({401, 403, 413, 415, 429})
UNSTORED_CODES = frozenset({"validation_failed", "idempotency_key_in_use", "rate_limited",
                            "payload_too_large", "unsupported_media_type"})


class Claim:
    def __init__(self, scope: str, key: str, token: str):
        self.scope, self.key, self.token = scope, key, token


def _scope(request: Request) -> str:
    user_id = request.authenticated_userid
    if user_id:
        return f"user:{user_id}"
    return f"anonymous:{request.client_addr or 'unknown'}"


def _route_name(request: Request) -> str | None:
    mapper = request.registry.queryUtility(IRoutesMapper)
    if mapper is None:
        return None
    route = mapper(request)["route"]
    return route.name if route is not None else None


def _error_code(response: Response) -> str | None:
    try:
        return json.loads(response.body)["error"]["code"]
    except (ValueError, KeyError, TypeError):
        return None


def _stored(response: Response) -> StoredResponse:
    headers = {name: response.headers[name] for name in REPLAYED_HEADERS
               if name in response.headers}
    return StoredResponse(status=response.status_code, headers=headers, body=response.body)


def _replay(stored: StoredResponse) -> Response:
    response = Response(status=stored.status, body=stored.body)
    for name, value in stored.headers.items():
        response.headers[name] = value
    response.headers[REPLAYED] = "true"
    return response


def in_use_response(request: Request) -> Response:
    return error_response(request, 409, "idempotency_key_in_use",
                          "A request with this Idempotency-Key is still being processed.",
                          headers={"Retry-After": "1"})


def claim_tween_factory(handler, registry):
    settings = registry.settings
    lease_seconds = settings["idempotency.lease_seconds"]
    ttl_seconds = settings["idempotency.ttl_seconds"]

    def own_transaction():
        writer, _ = registry["banter_payments.session_factories"]
        return writer()

    def release(claim: Claim) -> None:
        try:
            with own_transaction() as session, session.begin():
                services.release(session, scope=claim.scope, key=claim.key, token=claim.token)
        except SQLAlchemyError:
            log.warning("could not release an idempotency key; it frees itself when its "
                        "lease ends", exc_info=True)

    def store(claim: Claim, response: Response) -> None:
        try:
            with own_transaction() as session, session.begin():
                services.complete(session, scope=claim.scope, key=claim.key,
                                  token=claim.token, response=_stored(response),
                                  now=utcnow())
        except SQLAlchemyError:
            log.warning("could not store an idempotent answer", exc_info=True)

    def claim_tween(request: Request) -> Response:
        key = request.headers.get(HEADER)
        if request.method != "POST" or key is None:
            return handler(request)
        route_name = _route_name(request)
        if route_name is not None and route_name.startswith(EXEMPT_ROUTE_PREFIXES):
            return handler(request)
        problem = services.key_problem(key)
        if problem is not None:
            error = ValidationFailed(details={HEADER: problem})
            return error_response(request, error.status, error.code, error.message,
                                  error.details)

        environ = request.environ
        environ.pop(RECORDED, None)
        token = environ.setdefault(TOKEN, secrets.token_hex(16))
        claim = Claim(_scope(request), key, token)
        try:
            with own_transaction() as session, session.begin():
                outcome = services.claim(
                    session, scope=claim.scope, key=key,
                    request_fingerprint=services.fingerprint(
                        request.method, request.path_qs, request.body),
                    method=request.method, path=request.path_qs, token=token, now=utcnow(),
                    lease_seconds=lease_seconds, ttl_seconds=ttl_seconds,
                )
        except SQLAlchemyError as exc:
            log.warning("could not claim an idempotency key", exc_info=True)
            return database_unavailable_response(request, exc)
        if outcome.kind == "replay":
            return _replay(outcome.response)
        if outcome.kind == "in_use":
            return in_use_response(request)
        if outcome.kind == "reused":
            return error_response(request, 422, "idempotency_key_reused",
                                  "This Idempotency-Key was used with a different request.")

        environ[ACTIVE] = claim
        try:
            response = handler(request)
        except Exception as exc:
            if not is_error_retryable(request, exc):
                release(claim)
            raise
        finally:
            environ.pop(ACTIVE, None)

        exc = getattr(request, "exception", None)
        if exc is not None and is_error_retryable(request, exc):
            return response  # the next attempt re-enters this claim
        if environ.pop(RECORDED, False):
            return response  # stored with the work, in the request's transaction
        if _worth_storing(request, response):
            store(claim, response)
        else:
            release(claim)
        return response

    return claim_tween


def _worth_storing(request: Request, response: Response) -> bool:
    """A 4xx from an operation that ran: replaying it is what the client expects.

    A 2xx/3xx reaching this point was not committed (the transaction was doomed), and a
    5xx may not have finished: both release the key, so a retry runs the request again.
    """
    status = response.status_code
    if not 400 <= status < 500 or status in UNSTORED_STATUSES:
        return False
    if getattr(request, "matched_route", None) is None:
        return False
    return _error_code(response) not in UNSTORED_CODES


def record_tween_factory(handler, registry):
    def record_tween(request: Request) -> Response:
        response = handler(request)
        claim = request.environ.get(ACTIVE)
        if claim is None or getattr(request, "exception", None) is not None:
            return response
        if response.status_code >= 400 or request.tm.isDoomed():
            return response
        session = request.dbsession
        completed = services.complete(session, scope=claim.scope, key=claim.key,
                                      token=claim.token, response=_stored(response),
                                      now=utcnow())
        mark_written(session)  # commit it even when the view itself wrote nothing
        if not completed:
            # The lease ran out and another attempt took the key over: this attempt's
            # work must not commit beside the other's.
            log.warning("idempotency key lease lost; rolling this request back")
            request.tm.doom()
            return in_use_response(request)
        environ = request.environ

        def after_commit(success: bool) -> None:
            if success:
                environ[RECORDED] = True

        request.tm.get().addAfterCommitHook(after_commit)
        return response

    return record_tween
