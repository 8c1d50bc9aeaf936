"""``banter-notifications preview INI KIND``: every template, rendered, to look at.

Renders a sample mail of ``KIND`` (or of every kind, with ``all``) with the settings of
``INI`` (its templates, sender, links), and writes ``<kind>.eml`` (the whole message, as
a mail client opens it), ``<kind>.html`` and ``<kind>.txt`` into ``--out`` (default
``var/mail/preview``). Nothing is sent and no database is touched.
"""

from __future__ import annotations

import argparse
import os
import sys

from pyramid.paster import bootstrap

from .kinds import CHANNEL_KEY, KINDS
from .mail import build_message
from .samples import sample


def write_previews(channel, kinds: list[str], directory: str,
                   locale: str = "en_IN") -> list[str]:
    os.makedirs(directory, exist_ok=True)
    written = []
    for kind in kinds:
        data = sample(kind, locale)
        rendered = channel.renderer.render(data)
        message = build_message(data, rendered, sender=channel.sender,
                                reply_to=channel.reply_to, message_id=data["notificationId"])
        outputs = {"eml": message.to_message().as_string(), "html": rendered[2],
                   "txt": rendered[1]}
        for extension, content in outputs.items():
            path = os.path.join(directory, f"{kind}.{extension}")
            with open(path, "w", encoding="utf-8") as file:
                file.write(content)
            written.append(path)
    return written


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="banter-notifications",
                                     description="Tools of the notifications plugin.")
    commands = parser.add_subparsers(dest="command", required=True)
    preview = commands.add_parser("preview", help="write sample mails of a kind to files")
    preview.add_argument("config_uri", help="the ini file, e.g. development.ini")
    preview.add_argument("kind", choices=[*KINDS, "all"], help="a kind, or all")
    preview.add_argument("--out", default=os.path.join("var", "mail", "preview"),
                         help="where to write the files (default var/mail/preview)")
    preview.add_argument("--locale", default="en_IN", help="the reader's locale (en_IN)")
    args = parser.parse_args(argv)
    with bootstrap(args.config_uri) as env:
        channel = env["registry"].get(CHANNEL_KEY)
        if channel is None:
            print(f"{args.config_uri}: banter_notifications is not in "
                  f"banter_payments.plugins", file=sys.stderr)
            return 2
        kinds = list(KINDS) if args.kind == "all" else [args.kind]
        for path in write_previews(channel, kinds, args.out, args.locale):
            print(path)
    return 0


if __name__ == "__main__":
    sys.exit(main())
