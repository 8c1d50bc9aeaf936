"""Alerts: rules over the metrics, evaluated by the worker runtime (job
``alerts.evaluate``) or ``banter-alerts INI`` from cron; state and history in the
database; ``AlertRaised`` / ``AlertResolved`` delivered through the outbox (topics
``alert.raised`` / ``alert.resolved``) to the ops webhook and the ops mailbox, and logged
after commit. docs/metrics.md has the rules and the settings.
"""

import os

ADMIN_ERRORS = {401: "unauthenticated", 403: "forbidden"}


def includeme(config):
    from ..events import Committed
    from .events import AlertRaised, AlertResolved
    from .interfaces import IAlertService
    from .jobs import evaluate_alerts
    from .receivers import add_alert_receivers
    from .schemas import AlertListQuery
    from .services import alert_service_factory
    from .subscribers import log_alert_raised, log_alert_resolved
    from .topics import ALERT_RAISED, ALERT_RESOLVED, alert_raised, alert_resolved

    settings = config.registry.settings
    config.register_service_factory(alert_service_factory, IAlertService)
    config.add_subscriber(log_alert_raised, Committed, for_event=AlertRaised)
    config.add_subscriber(log_alert_resolved, Committed, for_event=AlertResolved)

    # Through the outbox: a message per receiver, written in the evaluation's transaction.
    config.add_outbox_topic(AlertRaised, ALERT_RAISED, alert_raised)
    config.add_outbox_topic(AlertResolved, ALERT_RESOLVED, alert_resolved)
    add_alert_receivers(config, settings, os.environ)

    interval = settings["alerts.interval_seconds"]
    if interval:
        config.add_worker_job("alerts.evaluate", evaluate_alerts, interval=interval)

    config.add_route("payments.alerts.list", "/admin/alerts")
    config.add_api_operation(
        "payments.alerts.list", "GET", tag="admin", permission="admin",
        query=AlertListQuery,
        summary="Every alert's state, and the alerts raised and resolved, newest first",
        responses={200: "{states: [AlertState], items: [AlertEvent], nextCursor}",
                   400: "validation_failed", **ADMIN_ERRORS},
    )
    config.scan(".views")
