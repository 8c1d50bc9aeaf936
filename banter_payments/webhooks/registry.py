"""``config.add_webhook_handler(event_name, handler)``: the common webhook dispatch.

Every handler, the core's included, is registered through this directive; several may
listen to one event and run in registration order, inside the inbox worker's transaction
(within one savepoint per event, so a failure undoes all of them together). Registering the same
handler for the same event twice is a ``ConfigurationConflictError`` at start-up.

A handler is ``handler(request, event, delivery) -> None``. ``request`` is the
``banter_payments.jobs.Job`` of the inbox's worker or of a replay script, or the request
of an admin replay: use only what both have (``dbsession``, ``registry``,
``find_service``). ``event`` is the parsed,
signature-checked envelope (``event["payload"]["payment"]["entity"]``...), ``delivery``
the ``WebhookDelivery`` being recorded (its ``id``, ``event_id``, ``source``). A handler
that finds the event is not for it (an order we do not know) raises ``IgnoreEvent``; one
that finds the signed payload contradicts our data raises ``RejectEvent``; anything
else it raises makes the event fail: the inbox retries it with backoff (Razorpay was
answered 200 when the event was queued).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from pyramid.exceptions import ConfigurationError

HANDLERS_KEY = "banter_payments.webhook_handlers"

WebhookHandler = Callable[[Any, dict, Any], None]


class IgnoreEvent(Exception):  # noqa: N818 - a signal, not an error
    """Raised by a handler when the event is not its business (e.g. an unknown order)."""


class RejectEvent(Exception):  # noqa: N818 - a signal, not an error
    """Raised by a handler when the signed payload contradicts our records (an amount
    that does not match the order). The event and its delivery are marked rejected, with
    the message and details as their error; what the handler wrote before raising (the
    anomaly note) is kept too."""

    def __init__(self, message: str, details: dict[str, Any] | None = None):
        super().__init__(message)
        self.message = message
        self.details = details or {}


def _handler_name(handler: Any) -> str:
    module = getattr(handler, "__module__", None) or type(handler).__module__
    name = getattr(handler, "__qualname__", None) or type(handler).__qualname__
    return f"{module}.{name}"


def add_webhook_handler(config, event_name: str, handler: WebhookHandler | str) -> None:
    if not isinstance(event_name, str) or not event_name or len(event_name) > 100 \
            or any(ch.isspace() for ch in event_name):
        raise ConfigurationError(f"webhook event name {event_name!r} must be 1-100 "
                                 f"characters without spaces (e.g. 'payment.captured')")
    handler = config.maybe_dotted(handler)
    if not callable(handler):
        raise ConfigurationError(f"webhook handler for {event_name} is not callable: "
                                 f"{handler!r}")

    def register():
        config.registry.setdefault(HANDLERS_KEY, {}).setdefault(event_name, []).append(
            handler
        )

    intr = config.introspectable("webhook handlers", (event_name, _handler_name(handler)),
                                 f"{event_name}: {_handler_name(handler)}",
                                 "webhook handler")
    intr["event_name"] = event_name
    intr["handler"] = handler
    config.action(("banter_payments.webhook_handler", event_name, handler), register,
                  introspectables=(intr,))


def handlers_for(registry, event_name: str) -> tuple[WebhookHandler, ...]:
    return tuple(registry.get(HANDLERS_KEY, {}).get(event_name, ()))


def includeme(config) -> None:
    config.add_directive("add_webhook_handler", add_webhook_handler)
