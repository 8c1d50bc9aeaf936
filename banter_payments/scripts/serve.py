"""The server of ``development.ini``: waitress, on the port you ask, or one clear line.

``[server:main] use = egg:banter-payments#waitress`` runs waitress with the section's
settings, except that the port of ``listen`` is replaced by ``$PORT`` (``make run
PORT=8000`` sets it) or by ``pserve development.ini http_port=8000``. A port another
program holds is then one line naming the port and the way out, instead of waitress's
``OSError`` traceback.
"""

from __future__ import annotations

import errno
import os
import sys
from typing import Any

import waitress

BIND_ERRORS = {errno.EADDRINUSE: "the port is already in use",
               errno.EACCES: "no permission to listen on it",
               errno.EADDRNOTAVAIL: "this machine has no such address"}


def with_port(listen: str, port: str) -> str:
    """Every ``host:port`` of a waitress ``listen`` value, moved to ``port``."""
    if not port.isdigit() or not 0 < int(port) < 65536:
        raise SystemExit(f"PORT must be a number from 1 to 65535, not {port!r}")
    hosts = [entry.rsplit(":", 1)[0] if ":" in entry else entry
             for entry in listen.split()]
    return " ".join(f"{host}:{port}" for host in hosts)


def serve_paste(app, global_conf: dict[str, Any], **settings: Any) -> int:
    port = os.environ.get("PORT") or global_conf.get("http_port")
    if port:
        settings["listen"] = with_port(settings.get("listen", "127.0.0.1:6543"), str(port))
    try:
        server = waitress.create_server(app, **settings)
    except OSError as exc:
        reason = BIND_ERRORS.get(exc.errno)
        if reason is None:
            raise
        where = settings.get("listen", "the configured address")
        print(f"Cannot serve on {where}: {reason}. Stop what is using it, or choose "
              f"another port: make run PORT=8000", file=sys.stderr)
        raise SystemExit(1) from None
    server.run()
    return 0
