"""The alerts' outbox topics: ``alert.raised`` and ``alert.resolved``.

Each alert is its own aggregate, so a receiver gets an episode's ``alert.raised``
before its ``alert.resolved``. ``data`` (fields are only ever added):

``{"alert", "state", "episode", "value", "threshold", "message", "summary"}``; ``summary``
is one line fit for a mail subject or a chat message, so a channel that knows nothing
about alerts (a mail plugin's) can send it as it is.
"""

from __future__ import annotations

from ..clock import utcnow
from ..outbox.interfaces import Fact
from .events import AlertRaised, AlertResolved

ALERT_RAISED = "alert.raised"
ALERT_RESOLVED = "alert.resolved"
ALERT_TOPICS = (ALERT_RAISED, ALERT_RESOLVED)


def _fact(topic: str, state: str, event) -> Fact:
    verb = "FIRING" if state == "firing" else "resolved"
    return Fact(topic, "alert", event.name, event.occurred_at or utcnow(), {
        "alert": event.name,
        "state": state,
        "episode": event.episode,
        "value": event.value,
        "threshold": event.threshold,
        "message": event.message,
        "summary": f"[banter-payments] alert {event.name} {verb}: {event.message}",
    })


def alert_raised(event: AlertRaised) -> Fact:
    return _fact(ALERT_RAISED, "firing", event)


def alert_resolved(event: AlertResolved) -> Fact:
    return _fact(ALERT_RESOLVED, "ok", event)
