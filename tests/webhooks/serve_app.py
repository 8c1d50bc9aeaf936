"""A tiny server for the multi-process tests: ``python serve_app.py '<settings json>'``.

Builds the app from the given settings, serves it with waitress on a free loopback port,
and prints ``port <n>`` once it is listening. Stopped by its parent (SIGTERM).
"""

from __future__ import annotations

import json
import sys

import waitress.server

from banter_payments import main


def run() -> None:
    settings = json.loads(sys.argv[1])
    threads = int(sys.argv[2]) if len(sys.argv) > 2 else 16
    server = waitress.server.create_server(main({}, **settings), host="127.0.0.1", port=0,
                                           threads=threads, connection_limit=200)
    print(f"port {server.effective_port}", flush=True)
    server.run()


if __name__ == "__main__":
    run()
