"""Every announced alert is also logged, after the commit that decided it.

The delivery to the ops webhook and the ops mailbox is the outbox's (``topics``): its
messages are written in the evaluation's transaction, not here.
"""

from __future__ import annotations

import logging

from ..events import Committed

log = logging.getLogger("banter_payments.alerts")


def log_alert_raised(committed: Committed) -> None:
    alert = committed.event
    log.warning("ALERT raised: %s (value %s, threshold %s): %s", alert.name, alert.value,
                alert.threshold, alert.message)


def log_alert_resolved(committed: Committed) -> None:
    alert = committed.event
    log.warning("ALERT resolved: %s (value %s, threshold %s): %s", alert.name, alert.value,
                alert.threshold, alert.message)
