"""The two facts an alert announces: it started firing, and it stopped.

Both are emitted inside the evaluation's transaction, so the outbox writes their
messages (topics ``alert.raised`` / ``alert.resolved``) in that same transaction, and
announced again as ``Committed(event)`` after it commits (the log line).
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from ..events import PaymentsEvent


@dataclass(frozen=True)
class AlertRaised(PaymentsEvent):
    name: str
    value: str
    threshold: str
    message: str
    # The alert's episode: the n-th time it started firing (its resolution has the same).
    episode: int = 0
    occurred_at: dt.datetime | None = None


@dataclass(frozen=True)
class AlertResolved(PaymentsEvent):
    name: str
    value: str
    threshold: str
    message: str
    episode: int = 0
    occurred_at: dt.datetime | None = None
