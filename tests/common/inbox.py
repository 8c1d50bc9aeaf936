"""The webhook inbox for tests: process what the route queued, now, with no sleeping.

``drain(app)`` (an app or its registry) runs ``banter_payments.webhooks.inbox.drain``:
every due event is processed before it returns, so a test posts a webhook, drains, and
asserts the effects. ``outcome(session, delivery_id)`` reads how a delivery ended.
"""

from __future__ import annotations

from typing import Any

import sqlalchemy as sa


def drain(app_or_registry: Any) -> int:
    from banter_payments.webhooks.inbox import drain as drain_inbox

    registry = getattr(app_or_registry, "registry", app_or_registry)
    return drain_inbox(registry)


def outcome(session, delivery_id: str) -> str:
    from banter_payments.webhooks.models import WebhookDelivery

    session.rollback()  # a fresh snapshot
    return session.scalar(sa.select(WebhookDelivery.outcome)
                          .where(WebhookDelivery.id == delivery_id))
