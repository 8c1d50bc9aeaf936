"""The settings of banter_notifications, declared with the core's ``declare_settings``."""

from __future__ import annotations

from email.utils import parseaddr
from typing import Any

from banter_payments.settings import Setting, boolean, choice, integer, text, text_list

from .kinds import KINDS


def kinds(value: Any) -> list[str]:
    chosen = text_list(value)
    if chosen == ["none"]:
        return []
    unknown = sorted(set(chosen) - set(KINDS))
    if unknown:
        raise ValueError(f"unknown kind(s) {', '.join(unknown)} (known: {', '.join(KINDS)})")
    return chosen


def optional(value: Any) -> str | None:
    return text(value) or None


def mailbox(value: Any) -> str:
    """``Name <address>`` or ``address``: one line, one address."""
    written = text(value)
    _name, address = parseaddr(written)
    if not written or any(ch in written for ch in "\r\n") or "@" not in address \
            or " " in address:
        raise ValueError(f"must be an address like 'Banter <receipts@example.com>'; "
                         f"got {written!r}")
    return written


def optional_mailbox(value: Any) -> str | None:
    return mailbox(value) if text(value) else None


SETTINGS = {
    "notifications.sender": Setting(
        "Banter <no-reply@localhost>", mailbox, doc="the From address of every mail"),
    "notifications.reply_to": Setting(None, optional_mailbox,
                                      doc="a Reply-To address, if any"),
    "notifications.mailer": Setting(
        "files", choice("files", "smtp"),
        doc="smtp (production), or files: each message an .eml file (development)"),
    "notifications.mail_directory": Setting(
        "var/mail", doc="where the files mailer writes its .eml files"),
    "notifications.smtp_host": Setting("localhost", env="NOTIFICATIONS_SMTP_HOST"),
    "notifications.smtp_port": Setting(25, integer(1, 65535)),
    "notifications.smtp_tls": Setting(
        "none", choice("none", "starttls", "ssl"),
        doc="none, starttls (usually port 587) or ssl (usually port 465)"),
    "notifications.smtp_user": Setting(None, optional, env="NOTIFICATIONS_SMTP_USER"),
    "notifications.smtp_password": Setting(
        None, optional, env="NOTIFICATIONS_SMTP_PASSWORD", secret=True,
        doc="from the environment, never the ini"),
    "notifications.email_kinds": Setting(
        list(KINDS), kinds, doc="which kinds are mailed (none: in-app only)"),
    "notifications.receipts_optional": Setting(
        False, boolean, doc="whether users may turn off receipts for money taken"),
    "notifications.frontend_url": Setting(
        "http://127.0.0.1:6543/demo/#/",
        doc="the app's address; links in mail are this plus orders/<id>, wallet..."),
    "notifications.templates": Setting(
        "banter_notifications:templates",
        doc="asset spec of the templates; a host's directory overrides kind by kind"),
    "notifications.default_locale": Setting("en_IN", doc="the reader's locale when unknown"),
    "notifications.development_domain": Setting(
        None, optional,
        doc="development only: a user with no known address is mailed at "
            "<user id>@<this domain>, so `make run` shows every mail; refused in production"),
}
