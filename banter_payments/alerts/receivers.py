"""Where alerts go: the ops webhook and the ops mailbox, as outbox endpoints.

``alerts.webhook_url`` becomes the endpoint ``alerts-webhook`` on the core's ``http``
channel (signed with the secret in the variable named by ``alerts.webhook_secret_env``,
checked like an ``outbox.endpoints`` line); ``alerts.email`` becomes ``alerts-email`` on
the channel ``alerts.email_channel``, which a mail plugin registers. Both want the two
alert topics and nothing else.
"""

from __future__ import annotations

from pyramid.events import ApplicationCreated
from pyramid.exceptions import ConfigurationError

from ..outbox.directives import channels
from ..outbox.endpoints import check_secret, check_url
from .topics import ALERT_TOPICS

WEBHOOK_ENDPOINT = "alerts-webhook"
EMAIL_ENDPOINT = "alerts-email"
CHANNEL_KEY = "banter_payments.alerts.email_channel"


def add_alert_receivers(config, settings, environ) -> None:
    """The ops webhook (``alerts.webhook_url``) and the ops address (``alerts.email``)
    as outbox endpoints wanting both alert topics."""
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
        config.registry[CHANNEL_KEY] = channel
        config.add_subscriber(_check_email_channel, ApplicationCreated)


def _check_email_channel(event: ApplicationCreated) -> None:
    """The mail channel comes from a plugin, included after the core: check it once the
    whole app is configured, so that alerts are never written for a channel that does not
    exist (they would die undelivered)."""
    registry = event.app.registry
    channel = registry[CHANNEL_KEY]
    if channel not in channels(registry):
        raise ConfigurationError(
            f"setting alerts.email needs the outbox channel {channel!r} "
            f"(alerts.email_channel), which no included plugin registers; include a "
            f"plugin that sends mail on that channel, or unset alerts.email")
