"""Where an announced alert goes today: the log, after the commit that decided it.

The outbox (being built separately) subscribes to the same after-commit events to
deliver them to the ops webhook endpoint and the ops mailbox.
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
