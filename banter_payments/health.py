"""``GET /health``: is the service up and can it reach its database."""

from __future__ import annotations

import logging

import sqlalchemy as sa
from pyramid.security import NO_PERMISSION_REQUIRED

log = logging.getLogger(__name__)


def health(request):
    engine = request.registry["banter_payments.engine"]
    try:
        with engine.connect() as conn:
            conn.execute(sa.text("SELECT 1"))
    except sa.exc.SQLAlchemyError as exc:
        log.warning("health check: database unreachable: %s", type(exc).__name__)
        request.response.status = 503
        return {"status": "degraded", "database": "unreachable"}
    return {"status": "ok", "database": "ok"}


def includeme(config):
    config.add_route("payments.health", "/health")
    config.add_view(health, route_name="payments.health", request_method="GET",
                    renderer="json", permission=NO_PERMISSION_REQUIRED)
    config.add_api_operation(
        "payments.health", "GET", tag="meta", summary="Liveness and database reachability",
        responses={200: "{status: ok, database: ok}", 503: "the database is unreachable"},
    )
