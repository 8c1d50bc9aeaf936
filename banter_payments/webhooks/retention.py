"""How long stored deliveries are kept: ``webhooks.retention_days``.

Deliveries are the audit trail of what Razorpay sent; kept forever they only grow. Past
the retention, ``banter-cleanup-webhooks`` deletes, in batches of short transactions:

- deliveries received before the cutoff, except those of an event still ``failed`` or
  ``dead`` (an operator has yet to act on it) or ``queued`` (the inbox needs its body);
  a replay pointing at a deleted delivery keeps its own row and loses only that link;
- event rows last changed before the cutoff that no delivery refers to any more, except
  those still in the inbox (failed, dead, queued). An event's row is what makes a
  redelivery a duplicate; Razorpay retries for 24 hours, and the retention is at least
  3 days, so a deleted event cannot come back;
- refusal counters (unsigned deliveries) of days before the cutoff.
"""

from __future__ import annotations

import datetime as dt

import sqlalchemy as sa
from sqlalchemy.orm import Session

from .models import WebhookDelivery, WebhookEvent, WebhookRefusal

_deliveries = WebhookDelivery.__table__
_events = WebhookEvent.__table__
_refusals = WebhookRefusal.__table__
# Events whose deliveries (and themselves) are kept whatever their age.
KEPT_EVENT_STATUSES = ("queued", "failed", "dead")


def delete_old_deliveries(session: Session, *, cutoff: dt.datetime, batch_size: int) -> int:
    ids = list(session.scalars(
        sa.select(_deliveries.c.id)
        .outerjoin(_events, _events.c.id == _deliveries.c.webhook_event_id)
        .where(_deliveries.c.received_at < cutoff,
               sa.or_(_events.c.status.is_(None),
                      _events.c.status.not_in(KEPT_EVENT_STATUSES)))
        .order_by(_deliveries.c.received_at).limit(batch_size)
    ))
    if not ids:
        return 0
    session.execute(sa.update(_deliveries).where(_deliveries.c.replay_of_id.in_(ids))
                    .values(replay_of_id=None))
    session.execute(sa.delete(_deliveries).where(_deliveries.c.id.in_(ids)))
    return len(ids)


def delete_old_events(session: Session, *, cutoff: dt.datetime, batch_size: int) -> int:
    referenced = sa.select(_deliveries.c.id).where(
        _deliveries.c.webhook_event_id == _events.c.id).exists()
    ids = list(session.scalars(
        sa.select(_events.c.id)
        .where(_events.c.updated_at < cutoff,
               _events.c.status.not_in(KEPT_EVENT_STATUSES), ~referenced)
        .limit(batch_size)
    ))
    if ids:
        session.execute(sa.delete(_events).where(_events.c.id.in_(ids)))
    return len(ids)


def delete_old_refusals(session: Session, *, cutoff: dt.datetime) -> int:
    return session.execute(
        sa.delete(_refusals).where(_refusals.c.day < cutoff.date())
    ).rowcount
