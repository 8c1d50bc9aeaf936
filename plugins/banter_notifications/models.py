"""The in-app inbox and each user's mail preferences.

A ``Notification`` row is written in the transaction of the fact it tells of (a paid
order, a gift), so the inbox shows exactly what committed. ``NotificationPreference``
holds only what a user changed: no row means the kind is mailed.
"""

from __future__ import annotations

import datetime as dt

from sqlalchemy import Index, String
from sqlalchemy.orm import Mapped, mapped_column

from banter_payments.clock import utcnow
from banter_payments.ids import new_id
from banter_payments.models.meta import Base


class Notification(Base):
    __tablename__ = "notifications"
    __table_args__ = (
        # A user's inbox, newest first, by keyset on the time-ordered id.
        Index("ix_notifications_user_id_id", "user_id", "id"),
        # The unread count and ?unread=true.
        Index("ix_notifications_user_id_read_at", "user_id", "read_at"),
    )

    id: Mapped[str] = mapped_column(String(40), primary_key=True,
                                    default=lambda: new_id("ntf"))
    user_id: Mapped[str] = mapped_column(String(128))
    kind: Mapped[str] = mapped_column(String(40))
    title: Mapped[str] = mapped_column(String(200))
    body: Mapped[str] = mapped_column(String(1000))
    # What the fact was about (``order:ord_...``, ``gift:gft_...``), for the client's link.
    reference: Mapped[str] = mapped_column(String(100))
    # The kind's fields (amount, currency, payment id...), for a client to render its own.
    data: Mapped[dict] = mapped_column(default=dict)
    # Whether a mail was queued for it, and where to (None: in-app only).
    emailed_to: Mapped[str | None] = mapped_column(String(320))
    read_at: Mapped[dt.datetime | None]
    created_at: Mapped[dt.datetime] = mapped_column(default=utcnow)


class NotificationPreference(Base):
    __tablename__ = "notification_preferences"

    user_id: Mapped[str] = mapped_column(String(128), primary_key=True)
    kind: Mapped[str] = mapped_column(String(40), primary_key=True)
    email: Mapped[bool] = mapped_column(default=True)
    updated_at: Mapped[dt.datetime] = mapped_column(default=utcnow)
