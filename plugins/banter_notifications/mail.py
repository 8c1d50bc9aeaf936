"""Rendering a queued mail and handing it to the mail server: the outbox's ``email``
channel.

The worker calls ``EmailChannel`` with no database transaction open. It renders the
kind's two templates (``<kind>.subject.txt``, ``<kind>.txt``, ``<kind>.html``; Jinja2,
HTML autoescaped) from the message's JSON, and sends one multipart message. Anything
that goes wrong is a ``DeliveryFailed``: an SMTP server that is down is retried with the
outbox's backoff and the mail arrives when it is back; a template that does not render
ends, after ``outbox.max_attempts``, as a ``dead`` message an operator sees in
``GET /admin/outbox?status=dead`` and retries once the template is fixed. Neither ever
touches the payment, which committed long before.

Headers are built only from cleaned values: names and subjects are one line of bounded
length (no CR/LF can start a header of its own), addresses are checked, and the
``Message-ID`` is the notification's, the same on every retry, so a mail server or a
reader can drop a duplicate of an at-least-once delivery.
"""

from __future__ import annotations

import logging
import os
import smtplib
import tempfile
from email.policy import compat32
from email.utils import formataddr, formatdate
from typing import Any

import jinja2
from pyramid.path import AssetResolver
from pyramid_mailer.mailer import DebugMailer, Mailer
from pyramid_mailer.message import Attachment, Message
from repoze.sendmail.interfaces import IMailer

from banter_payments.outbox.interfaces import DeliveryFailed, Endpoint, OutboundMessage

from .money import format_money, format_quantity, locale_or_default

log = logging.getLogger(__name__)

DEFAULT_TEMPLATES = "banter_notifications:templates"
MAX_SUBJECT = 150
MAX_NAME = 100


def one_line(value: Any, limit: int) -> str:
    text = "" if value is None else str(value)
    text = "".join(ch if ch.isprintable() else " " for ch in text)
    return " ".join(text.split())[:limit]


def _directory(spec: str) -> str:
    path = AssetResolver().resolve(spec).abspath()
    if not os.path.isdir(path):
        raise ValueError(f"{spec!r} is not a directory of templates")
    return path


class Renderer:
    """The templates: a host's directory (``notifications.templates``) first, kind by
    kind, then the plugin's own."""

    def __init__(self, templates: str, frontend_url: str, default_locale: str) -> None:
        paths = [_directory(templates)]
        if templates != DEFAULT_TEMPLATES:
            paths.append(_directory(DEFAULT_TEMPLATES))
        self.frontend_url = frontend_url.rstrip("/") + "/"
        self.default_locale = default_locale
        loader = jinja2.FileSystemLoader(paths)
        self.html = jinja2.Environment(loader=loader, autoescape=True,
                                       undefined=jinja2.StrictUndefined)
        self.text = jinja2.Environment(loader=loader, autoescape=False,
                                       undefined=jinja2.StrictUndefined,
                                       keep_trailing_newline=True)

    def link(self, path: str = "") -> str:
        return self.frontend_url + path.lstrip("/")

    def render(self, data: dict[str, Any]) -> tuple[str, str, str]:
        """(subject, text, html) of one queued mail; raises on a template error."""
        kind = data["kind"]
        locale = locale_or_default(data.get("locale"), self.default_locale)

        def money(amount, currency=None):
            return format_money(amount, currency or context.get("currency") or "INR", locale)

        def number(value):
            return format_quantity(value, locale)

        context = dict(data.get("context") or {})
        variables = {
            "kind": kind, "c": context, "to": data.get("to") or {}, "title": data.get("title"),
            "name": one_line((data.get("to") or {}).get("name"), MAX_NAME) or None,
            "money": money, "number": number, "link": self.link, "locale": locale,
        }
        subject = self.text.get_template(f"{kind}.subject.txt").render(variables)
        text = self.text.get_template(f"{kind}.txt").render(variables)
        html = self.html.get_template(f"{kind}.html").render(variables)
        return one_line(subject, MAX_SUBJECT), text, html


def build_message(data: dict[str, Any], rendered: tuple[str, str, str], *, sender: str,
                  reply_to: str | None, message_id: str) -> Message:
    subject, text, html = rendered
    to = data["to"]
    address = one_line(to["email"], 320)
    if not address or " " in address or address.count("@") != 1:
        raise ValueError(f"not an address: {address!r}")
    name = one_line(to.get("name"), MAX_NAME)
    headers = {"Message-ID": f"<{one_line(message_id, 100)}@banter-payments>",
               "Auto-Submitted": "auto-generated", "Date": formatdate(usegmt=True)}
    if reply_to:
        headers["Reply-To"] = reply_to
    return Message(subject=subject, sender=sender,
                   recipients=[formataddr((name, address)) if name else address],
                   body=_part(text, "text/plain"), html=_part(html, "text/html"),
                   extra_headers=headers)


def _part(content: str, content_type: str) -> Attachment:
    """Quoted-printable: SMTP servers refuse lines over 998 bytes, which 8bit
    allows a template to produce."""
    return Attachment(data=content, content_type=f"{content_type}; charset=utf-8",
                      transfer_encoding="quoted-printable", disposition="inline")


class FileMailer(DebugMailer):
    """Development: each message an ``.eml`` file named for its notification, written
    whole (a temporary file renamed), so a retried delivery replaces its file."""

    def __init__(self, directory: str) -> None:
        self.tld = directory

    def _send(self, message: Message, fail_silently: bool = False) -> None:
        os.makedirs(self.tld, exist_ok=True)
        name = message.extra_headers["Message-ID"].strip("<>").split("@")[0]
        handle, temporary = tempfile.mkstemp(dir=self.tld, suffix=".tmp")
        with os.fdopen(handle, "w", encoding="utf-8") as file:
            file.write(message.to_message().as_string())
        os.replace(temporary, os.path.join(self.tld, f"{name}.eml"))

    send = send_immediately = _send


class SmtpMailer(Mailer):
    """pyramid_mailer's SMTP mailer, writing the message with CRLF line ends.

    repoze.sendmail hands smtplib the message as bytes, which smtplib sends as they are:
    with the email package's default ``\\n`` the server reads one endless line (and a
    strict one, like aiosmtpd, refuses it). SMTP's own line end fixes that.
    """

    def _message_args(self, message):
        sender, recipients, mail = super()._message_args(message)
        mail.policy = compat32.clone(linesep="\r\n")
        return sender, recipients, mail


def mailer_from_settings(settings) -> SmtpMailer | FileMailer:
    if settings["notifications.mailer"] == "files":
        return FileMailer(settings["notifications.mail_directory"])
    tls = settings["notifications.smtp_tls"]
    return SmtpMailer(host=settings["notifications.smtp_host"],
                  port=settings["notifications.smtp_port"],
                  username=settings["notifications.smtp_user"],
                  password=settings["notifications.smtp_password"],
                  tls=tls == "starttls", ssl=tls == "ssl")


class EmailChannel:
    """``config.add_outbox_channel("email", EmailChannel(...))``."""

    def __init__(self, renderer: Renderer, mailer: Mailer | FileMailer | IMailer, *,
                 sender: str, reply_to: str | None) -> None:
        self.renderer = renderer
        self.mailer = mailer
        self.sender = sender
        self.reply_to = reply_to

    def __call__(self, message: OutboundMessage, endpoint: Endpoint) -> str:
        data = message.payload["data"]
        try:
            rendered = self.renderer.render(data)
            mail = build_message(data, rendered, sender=self.sender, reply_to=self.reply_to,
                                 message_id=data.get("notificationId") or message.event_id)
        except Exception as exc:
            log.exception("notifications: %s mail %s does not render", data.get("kind"),
                          message.id)
            raise DeliveryFailed(f"template error ({data.get('kind')}): "
                                 f"{type(exc).__name__}: {str(exc)[:300]}") from None
        try:
            self.mailer.send_immediately(mail)
        except (smtplib.SMTPException, OSError) as exc:
            raise DeliveryFailed(f"SMTP: {type(exc).__name__}: {str(exc)[:300]}") from None
        except Exception as exc:  # repoze.sendmail's own errors (TLS, EHLO)
            raise DeliveryFailed(f"mail: {type(exc).__name__}: {str(exc)[:300]}") from None
        return f"mailed {data['kind']}"
