"""The webhook inbox for tests: process what the route queued, now, with no sleeping.

``drain(app)`` (an app or its registry) runs ``banter_payments.webhooks.inbox.drain``:
every due event is processed before it returns, so a test posts a webhook, drains, and
asserts the effects. ``outcome(session, delivery_id)`` reads how a delivery ended,
``recorded`` its outcome and error.
"""

from __future__ import annotations

from typing import Any

import sqlalchemy as sa


def drain(app_or_registry: Any) -> int:
    from banter_payments.webhooks.inbox import drain as drain_inbox

    registry = getattr(app_or_registry, "registry", app_or_registry)
    return drain_inbox(registry)


def outcome(session, delivery_id: str) -> str:
    return recorded(session, delivery_id)[0]


def recorded(session, delivery_id: str) -> tuple[str, str | None]:
    """(outcome, error) of a stored delivery, read afresh."""
    from banter_payments.webhooks.models import WebhookDelivery

    session.rollback()  # a fresh snapshot
    row = session.execute(sa.select(WebhookDelivery.outcome, WebhookDelivery.error)
                          .where(WebhookDelivery.id == delivery_id)).one()
    session.rollback()
    return row.outcome, row.error


def flush_webhooks(target: Any, *, app: Any = None, http: Any = None) -> int:
    """The sandbox's ``flush_webhooks`` (deliver every queued webhook now), then the
    inbox of the app that received them drained, so their effects are there on return."""
    from banter_payments.sandbox.worker import flush_webhooks as flush

    delivered = flush(target, app=app, http=http)
    for candidate in (app, target):
        registry = getattr(candidate, "registry", None)
        if registry is not None and "banter_payments.session_factories" in registry:
            drain(registry)
            break
    return delivered
