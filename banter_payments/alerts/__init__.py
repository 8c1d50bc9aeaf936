"""Alerts: rules over the metrics, evaluated by the worker runtime (job
``alerts.evaluate``) or ``banter-alerts INI`` from cron; state and history in the
database; ``AlertRaised`` / ``AlertResolved`` delivered through the outbox (topics
``alert.raised`` / ``alert.resolved``) to the ops webhook and the ops mailbox, and logged
after commit. docs/metrics.md has the rules and the settings.
"""

import os

from pyramid.events import ApplicationCreated
from pyramid.exceptions import ConfigurationError

ADMIN_ERRORS = {401: "unauthenticated", 403: "forbidden"}
WEBHOOK_ENDPOINT = "alerts-webhook"
EMAIL_ENDPOINT = "alerts-email"


def includeme(config):
    from ..events import Committed
    from .events import AlertRaised, AlertResolved
    from .interfaces import IAlertService
    from .jobs import evaluate_alerts
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


def add_alert_receivers(config, settings, environ) -> None:
    """The ops webhook (``alerts.webhook_url``) and the ops address (``alerts.email``)
    as outbox endpoints wanting both alert topics."""
    from ..outbox.endpoints import check_secret, check_url
    from .topics import ALERT_TOPICS

    url = settings["alerts.webhook_url"]
    if url:
        where = "setting alerts.webhook_url"
        check_url(url, where)
        env_name = settings["alerts.webhook_secret_env"]
        secret = environ.get(env_name, "").strip()
        if not secret:
            raise ConfigurationError(f"{where}: ${env_name} (the alerts webhook's signing "
                                     f"secret, alerts.webhook_secret_env) is not set")
        check_secret(secret, f"{where}: ${env_name}")
        config.add_outbox_endpoint(WEBHOOK_ENDPOINT, url, channel="http",
                                   topics=ALERT_TOPICS, secret=secret)
    address = settings["alerts.email"]
    if address:
        if " " in address or address.count("@") != 1 or address.startswith("@") \
                or address.endswith("@"):
            raise ConfigurationError(f"setting alerts.email: {address!r} is not one "
                                     f"email address")
        channel = settings["alerts.email_channel"]
        config.add_outbox_endpoint(EMAIL_ENDPOINT, address, channel=channel,
                                   topics=ALERT_TOPICS)
        config.registry["banter_payments.alerts.email_channel"] = channel
        config.add_subscriber(_check_email_channel, ApplicationCreated)


def _check_email_channel(event: ApplicationCreated) -> None:
    """The mail channel comes from a plugin, included after the core: check it once the
    whole app is configured, so that alerts are never written for a channel that does not
    exist (they would die undelivered)."""
    from ..outbox.directives import channels

    registry = event.app.registry
    channel = registry["banter_payments.alerts.email_channel"]
    if channel not in channels(registry):
        raise ConfigurationError(
            f"setting alerts.email needs the outbox channel {channel!r} "
            f"(alerts.email_channel), which no included plugin registers; include the "
            f"plugin that sends mail (banter_notifications) or unset alerts.email")
