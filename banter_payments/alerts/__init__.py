"""Alerts: rules over the metrics, evaluated by ``banter-alerts INI`` (cron); state kept
in the database; ``AlertRaised`` / ``AlertResolved`` announced after commit."""


def includeme(config):
    from ..events import Committed
    from .events import AlertRaised, AlertResolved
    from .subscribers import log_alert_raised, log_alert_resolved

    config.add_subscriber(log_alert_raised, Committed, for_event=AlertRaised)
    config.add_subscriber(log_alert_resolved, Committed, for_event=AlertResolved)
