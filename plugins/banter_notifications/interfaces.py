"""What the notifications plugin offers a view, a script or a host app."""

from __future__ import annotations

from zope.interface import Interface


class IInbox(Interface):
    """One user's in-app notifications and mail preferences."""

    def page(user_id, *, limit, before=None, unread_only=False):
        """Up to ``limit + 1`` notifications, newest first, older than id ``before``."""

    def unread_count(user_id):
        """How many of the user's notifications are unread."""

    def mark_read(user_id, notification_id, now=None):
        """The notification, read; None when there is none of that id for this user."""

    def mark_all_read(user_id, now=None):
        """Mark every unread notification read; how many were."""

    def preferences(user_id):
        """``{kind: bool}``: whether each kind is mailed to the user."""

    def set_preferences(user_id, email, now=None):
        """Store ``{kind: bool}``; receipts stay on unless the operator allows turning
        them off (``ValidationFailed``)."""
