"""``config.add_outbox_channel`` and ``config.add_outbox_endpoint``.

A channel is how messages leave (the core's ``http``; a notifications plugin adds
``email``); an endpoint is one receiver on a channel with the topics it wants. Both are
unique by name: a second registration is a ``ConfigurationConflictError`` at start-up.
"""

from __future__ import annotations

from pyramid.exceptions import ConfigurationError

from .endpoints import NAME, TOPIC
from .interfaces import Channel, Endpoint, IOutbox

CHANNELS_KEY = "banter_payments.outbox_channels"


def add_outbox_channel(config, name: str, deliver: Channel) -> None:
    deliver = config.maybe_dotted(deliver)
    if not callable(deliver):
        raise ConfigurationError(f"outbox channel {name!r}: deliver must be callable")

    def register():
        config.registry.setdefault(CHANNELS_KEY, {})[name] = deliver

    config.action(("banter_payments.outbox_channel", name), register)


def add_outbox_endpoint(config, name: str, target: str, *, channel: str, topics,
                        secret: str | None = None, **options) -> None:
    """An endpoint that is not an ini line (a plugin's mail receiver, a host app's)."""
    if not NAME.match(name):
        raise ConfigurationError(f"outbox endpoint {name!r}: not a valid name")
    topics = frozenset(topics)
    bad = sorted(t for t in topics if not TOPIC.match(t))
    if bad:
        raise ConfigurationError(f"outbox endpoint {name!r}: not topics: {', '.join(bad)}")
    endpoint = Endpoint(name=name, channel=channel, target=target, topics=topics,
                        secret=secret, options=dict(options))

    def register():
        outbox = config.registry.getUtility(IOutbox)
        if name in outbox.endpoints:
            raise ConfigurationError(f"outbox endpoint {name!r} is configured twice")
        outbox.add_endpoint(endpoint)

    config.action(("banter_payments.outbox_endpoint", name), register)


def channels(registry) -> dict[str, Channel]:
    return dict(registry.get(CHANNELS_KEY, {}))
