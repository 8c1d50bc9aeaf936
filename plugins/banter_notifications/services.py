"""The inbox, and turning a fact into an inbox line and a queued mail, in the fact's
own transaction.

``record_event`` is an *in-transaction* subscriber of every ``PaymentsEvent``: the event
names its topic through the outbox's topic registry (``config.add_outbox_topic``), and a
topic this plugin has a kind for becomes a ``Notification`` row and, when the reader has
an address and wants mail of that kind, one outbox message on the ``email`` endpoint.
Both are rows of the fact's transaction, so a rolled-back fact notifies no one and a
committed one loses no mail; the mail itself is rendered and sent by the worker
(``mail``). The whole of it runs in a savepoint: whatever goes wrong here (a host
directory that raises, a bad locale) is logged and leaves the payment alone.
"""

from __future__ import annotations

import datetime as dt
import logging
from typing import Any

import sqlalchemy as sa
from sqlalchemy.orm import Session
from zope.interface import implementer

from banter_payments.clock import utcnow
from banter_payments.db import write
from banter_payments.errors import ValidationFailed
from banter_payments.events import PaymentsEvent
from banter_payments.outbox.interfaces import IOutbox
from banter_payments.outbox.subscribers import TOPICS_KEY
from banter_payments.users import find_user

from .compose import COMPOSERS, Notice, summary
from .interfaces import IInbox
from .kinds import EMAIL_TOPIC, KINDS, RECEIPTS, TOPIC_KINDS
from .models import Notification, NotificationPreference

log = logging.getLogger(__name__)

MAX_NAME = 100
MAX_ADDRESS = 320


def _topic_of(registry, event: PaymentsEvent) -> tuple[str, Any] | None:
    topics = registry.get(TOPICS_KEY, {})
    for kind in type(event).__mro__:
        if kind in topics:
            return topics[kind]
    return None


def record_event(event: PaymentsEvent) -> None:
    source = event.request
    found = _topic_of(source.registry, event)
    if found is None or found[0] not in TOPIC_KINDS:
        return
    topic, read_fact = found
    session: Session = source.dbsession
    try:
        with session.begin_nested():
            notice = COMPOSERS[TOPIC_KINDS[topic]](read_fact(event), event)
            record_notice(source, session, notice)
    except Exception:
        log.exception("notifications: %s could not be recorded; the fact stands", topic)


def _clean(value: Any, limit: int) -> str | None:
    """One line of at most ``limit`` characters: no CR, LF or other control characters
    (names and addresses end up in mail headers)."""
    if not isinstance(value, str):
        return None
    value = "".join(ch if ch.isprintable() else " " for ch in value)
    value = " ".join(value.split())[:limit]
    return value or None


def _address(value: Any) -> str | None:
    value = _clean(value, MAX_ADDRESS)
    if value is None or " " in value or value.count("@") != 1:
        return None
    local, domain = value.split("@")
    return value if local and "." in domain.strip(".") else None


def record_notice(source: Any, session: Session, notice: Notice) -> Notification | None:
    """Write the inbox line and queue the mail for one ``Notice``."""
    registry = source.registry
    settings = registry.settings
    reader = find_user(source, notice.user_id) if notice.user_id else None
    locale = (reader.locale if reader else None) or settings["notifications.default_locale"]
    name = _clean((reader.name if reader else None) or notice.fallback_name, MAX_NAME)
    if notice.kind == "gift_received" and notice.context.get("from"):
        sender = find_user(source, notice.context["from"])
        notice.context["fromName"] = _clean(sender.name if sender else None,
                                            MAX_NAME) or notice.context["from"]
    notification = None
    if notice.user_id:
        notification = Notification(
            user_id=notice.user_id, kind=notice.kind, title=notice.title[:200],
            body=summary(notice, locale)[:1000], reference=notice.reference[:100],
            data=notice.context)
        session.add(notification)
        session.flush()
    address = _address((reader.email if reader else None) or notice.fallback_email)
    domain = settings["notifications.development_domain"]
    if address is None and domain and notice.user_id:
        address = _address(f"{notice.user_id}@{domain}")
    if not wants_mail(session, settings, notice.user_id, notice.kind):
        log.debug("notifications: %s for %s not mailed (turned off)", notice.kind,
                  notice.user_id)
        return notification
    if address is None:
        log.debug("notifications: %s for %s: no address, in-app only", notice.kind,
                  notice.user_id or notice.reference)
        return notification
    key = notification.id if notification is not None else notice.reference
    registry.getUtility(IOutbox).publish(
        session, EMAIL_TOPIC, aggregate_type="notification", aggregate_id=key[:64],
        data={"kind": notice.kind, "notificationId": key, "userId": notice.user_id,
              "to": {"email": address, "name": name}, "locale": locale,
              "title": notice.title, "context": notice.context})
    if notification is not None:
        notification.emailed_to = address
    return notification


def locked_kinds(settings) -> list[str]:
    """The receipts a user may not turn off (all of them, unless the operator allows)."""
    if settings["notifications.receipts_optional"]:
        return []
    return [kind for kind in KINDS if kind in RECEIPTS]


def wants_mail(session: Session, settings, user_id: str | None, kind: str) -> bool:
    if kind not in settings["notifications.email_kinds"]:
        return False
    if user_id is None:
        return True
    if kind in RECEIPTS and not settings["notifications.receipts_optional"]:
        return True
    choice = session.scalar(sa.select(NotificationPreference.email).where(
        NotificationPreference.user_id == user_id, NotificationPreference.kind == kind))
    return choice is not False


@implementer(IInbox)
class Inbox:
    def __init__(self, session: Session, settings) -> None:
        self.session = session
        self.settings = settings

    def _mine(self, user_id: str):
        return sa.select(Notification).where(Notification.user_id == user_id)

    def page(self, user_id: str, *, limit: int, before: str | None = None,
             unread_only: bool = False) -> list[Notification]:
        statement = self._mine(user_id)
        if unread_only:
            statement = statement.where(Notification.read_at.is_(None))
        if before:
            statement = statement.where(Notification.id < before)
        return list(self.session.scalars(
            statement.order_by(Notification.id.desc()).limit(limit + 1)))

    def unread_count(self, user_id: str) -> int:
        return self.session.scalar(
            sa.select(sa.func.count()).select_from(Notification).where(
                Notification.user_id == user_id, Notification.read_at.is_(None))) or 0

    def mark_read(self, user_id: str, notification_id: str,
                  now: dt.datetime | None = None) -> Notification | None:
        notification = self.session.scalar(
            self._mine(user_id).where(Notification.id == notification_id))
        if notification is not None and notification.read_at is None:
            notification.read_at = now or utcnow()
            self.session.flush()
        return notification

    def mark_all_read(self, user_id: str, now: dt.datetime | None = None) -> int:
        return write(self.session, sa.update(Notification).where(
            Notification.user_id == user_id, Notification.read_at.is_(None),
        ).values(read_at=now or utcnow())).rowcount

    def locked_kinds(self) -> list[str]:
        return locked_kinds(self.settings)

    def preferences(self, user_id: str) -> dict[str, bool]:
        mailed = self.settings["notifications.email_kinds"]
        chosen = dict(self.session.execute(
            sa.select(NotificationPreference.kind, NotificationPreference.email)
            .where(NotificationPreference.user_id == user_id)).all())
        locked = self.locked_kinds()
        return {kind: kind in locked or chosen.get(kind, True)
                for kind in KINDS if kind in mailed}

    def set_preferences(self, user_id: str, email: dict[str, bool],
                        now: dt.datetime | None = None) -> dict[str, bool]:
        mailed = self.settings["notifications.email_kinds"]
        unknown = sorted(kind for kind in email if kind not in mailed)
        if unknown:
            raise ValidationFailed(details={
                f"email.{kind}": "not a kind this service mails" for kind in unknown})
        locked = sorted(kind for kind, on in email.items()
                        if not on and kind in self.locked_kinds())
        if locked:
            raise ValidationFailed(details={
                f"email.{kind}": "receipts for money taken cannot be turned off"
                for kind in locked})
        now = now or utcnow()
        for kind, on in email.items():
            row = self.session.get(NotificationPreference, (user_id, kind))
            if row is None:
                self.session.add(NotificationPreference(user_id=user_id, kind=kind,
                                                        email=bool(on), updated_at=now))
            else:
                row.email, row.updated_at = bool(on), now
        self.session.flush()
        return self.preferences(user_id)


def inbox_factory(context, request) -> Inbox:
    return Inbox(request.dbsession, request.registry.settings)
