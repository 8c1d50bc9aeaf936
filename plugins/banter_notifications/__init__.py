"""Notifications: receipts and alerts by email, and an in-app inbox.

Every fact the plugin has a kind for (``kinds.TOPIC_KINDS``: a paid order, a failed
payment, a refund, a gift, and the subscription facts when the subscriptions plugin
announces them) becomes, in the fact's own transaction, an inbox row and, when the reader
has an address and wants that kind by mail, a message on the outbox's ``email`` endpoint
(``services``). The worker renders and sends it through the ``email`` channel
(``mail``): SMTP in production, ``.eml`` files in development. A mail server that is down
delays mail and loses none; a rolled-back fact sends nothing.

Addresses come from the host's ``config.set_user_directory`` (the core's), else from
what the order captured (``customer.email``). Settings: ``settings.py``. Templates:
``templates/``, overridable kind by kind with ``notifications.templates``.
"""

from pyramid.exceptions import ConfigurationError

from banter_payments.events import PaymentsEvent

from .interfaces import IInbox
from .kinds import CHANNEL_KEY, EMAIL_CHANNEL, EMAIL_ENDPOINT, EMAIL_TOPIC
from .mail import EmailChannel, Renderer, mailer_from_settings
from .schemas import EmptyBody, InboxQuery, preferences_body
from .services import inbox_factory, locked_kinds, record_event
from .settings import SETTINGS

USER_ERRORS = {401: "unauthenticated"}


def includeme(config):
    config.declare_settings(SETTINGS)
    settings = config.registry.settings
    if settings["notifications.development_domain"] and \
            settings["banter_payments.environment"] == "production":
        raise ConfigurationError("setting notifications.development_domain is for "
                                 "development only: in production, addresses come from "
                                 "config.set_user_directory or the order's customer")
    try:
        renderer = Renderer(settings["notifications.templates"],
                            settings["notifications.frontend_url"],
                            settings["notifications.default_locale"])
    except (ValueError, ImportError, OSError) as exc:
        raise ConfigurationError(f"setting notifications.templates: {exc}") from None
    channel = EmailChannel(renderer, mailer_from_settings(settings),
                           sender=settings["notifications.sender"],
                           reply_to=settings["notifications.reply_to"])
    config.registry[CHANNEL_KEY] = channel
    config.add_outbox_channel(EMAIL_CHANNEL, channel)
    config.add_outbox_endpoint(EMAIL_ENDPOINT, settings["notifications.mailer"],
                               channel=EMAIL_CHANNEL, topics=[EMAIL_TOPIC])
    config.add_subscriber(record_event, PaymentsEvent)
    config.register_service_factory(inbox_factory, IInbox)

    config.add_route("payments.notifications.list", "/notifications")
    config.add_route("payments.notifications.unread_count", "/notifications/unread-count")
    config.add_route("payments.notifications.read_all", "/notifications/read-all")
    config.add_route("payments.notifications.preferences", "/notifications/preferences")
    config.add_route("payments.notifications.read", "/notifications/{notification_id}/read")
    config.add_api_operation(
        "payments.notifications.list", "GET", tag="notifications", permission="user",
        summary="The caller's notifications, newest first (?unread=true for unread only)",
        query=InboxQuery,
        responses={200: "{items: [Notification], nextCursor}", 400: "validation_failed",
                   **USER_ERRORS})
    config.add_api_operation(
        "payments.notifications.unread_count", "GET", tag="notifications",
        permission="user", summary="How many of the caller's notifications are unread",
        responses={200: "{unread: int}", **USER_ERRORS})
    config.add_api_operation(
        "payments.notifications.read", "POST", tag="notifications", permission="user",
        summary="Mark one of the caller's notifications read", body=EmptyBody,
        responses={200: "the Notification, read", 404: "not_found (or not yours)",
                   400: "validation_failed", **USER_ERRORS})
    config.add_api_operation(
        "payments.notifications.read_all", "POST", tag="notifications", permission="user",
        summary="Mark every notification of the caller read", body=EmptyBody,
        responses={200: "{marked: int, unread: 0}", 400: "validation_failed",
                   **USER_ERRORS})
    config.add_api_operation(
        "payments.notifications.preferences", "GET", tag="notifications",
        permission="user", summary="Which kinds are mailed to the caller",
        responses={200: "{email: {kind: bool}, locked: [kind]}", **USER_ERRORS})
    config.add_api_operation(
        "payments.notifications.preferences", "PUT", tag="notifications",
        permission="user",
        summary="Turn mail of some kinds off or on (receipts for money taken stay on "
                "unless the operator allows otherwise)",
        body=preferences_body(settings["notifications.email_kinds"], locked_kinds(settings)),
        responses={200: "{email: {kind: bool}, locked: [kind]}",
                   400: "validation_failed: an unknown kind, or a receipt turned off",
                   **USER_ERRORS})
    config.scan(".views")
