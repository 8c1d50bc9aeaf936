"""Alert rules: what each alert measures, from the database.

Each rule measures something over ``alerts.window`` and says breached, fine, or "not
enough data" (too few attempts or deliveries to judge: the alert keeps its state, so a
quiet night neither raises nor resolves anything). ``services.AlertService.evaluate``
turns the verdicts into changes of state, each announced once.

Rules:

- ``success_rate``: succeeded / attempts of payments created in the window, below
  ``alerts.success_rate_below``, once there are ``alerts.min_attempts`` attempts;
- ``webhook_lag``: the p95 webhook lag in the window, above ``alerts.webhook_lag_seconds``,
  once ``alerts.min_webhooks`` signed deliveries were timed;
- ``dead_letters``: the outbox's dead messages above ``alerts.dead_letters_above``
  (only when an outbox registered its stats with ``config.set_outbox_stats``).
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from sqlalchemy.orm import Session

from ..metrics.interfaces import outbox_stats
from ..metrics.services import attempt_totals, lag_percentiles, success_rate


@dataclass(frozen=True)
class Measure:
    name: str
    # True: breached; False: fine; None: not enough data to say.
    breached: bool | None
    value: str
    threshold: str
    message: str


def success_rate_measure(session: Session, settings, now: dt.datetime) -> Measure:
    start = now - dt.timedelta(seconds=settings["alerts.window"])
    succeeded, attempts = attempt_totals(session, start, now)
    threshold = settings["alerts.success_rate_below"]
    rate = success_rate(succeeded, attempts)
    enough = attempts >= settings["alerts.min_attempts"]
    return Measure(
        "success_rate", (rate < threshold) if enough and rate is not None else None,
        "" if rate is None else f"{rate:.4f}", f"{threshold:.4f}",
        f"payment success rate {succeeded}/{attempts} over the last "
        f"{settings['alerts.window']}s (alert below {threshold:.2%})")


def webhook_lag_measure(session: Session, settings, now: dt.datetime) -> Measure:
    start = now - dt.timedelta(seconds=settings["alerts.window"])
    lag = lag_percentiles(session, start, now)
    threshold_ms = round(settings["alerts.webhook_lag_seconds"] * 1000)
    enough = lag["count"] >= settings["alerts.min_webhooks"]
    p95 = lag["p95Ms"]
    return Measure(
        "webhook_lag", (p95 > threshold_ms) if enough and p95 is not None else None,
        "" if p95 is None else str(p95), str(threshold_ms),
        f"webhook lag p95 {p95} ms over {lag['count']} deliveries "
        f"(alert above {threshold_ms} ms)")


def dead_letters_measure(session: Session, settings, registry) -> Measure | None:
    stats = outbox_stats(registry)
    if stats is None:
        return None
    dead = stats.dead(session)
    threshold = settings["alerts.dead_letters_above"]
    return Measure("dead_letters", dead > threshold, str(dead), str(threshold),
                   f"{dead} dead outbox messages (alert above {threshold})")


def measure_all(session: Session, registry, now: dt.datetime) -> list[Measure]:
    settings = registry.settings
    measures = [success_rate_measure(session, settings, now),
                webhook_lag_measure(session, settings, now)]
    dead = dead_letters_measure(session, settings, registry)
    return measures + ([dead] if dead else [])
