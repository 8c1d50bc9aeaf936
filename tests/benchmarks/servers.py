"""The server processes the benchmark scripts measure: each script runs itself with
``--serve KIND`` in a child process (the app or its floor app, on waitress), which prints
the port it listens on; the parent reads it and drives load from outside, as a client
would. Run as scripts, the benchmarks import this module from their own folder."""

from __future__ import annotations

import os
import subprocess
import sys


def serve_wsgi(wsgi, threads: int, connection_limit: int = 256) -> None:
    """In the child: serve ``wsgi`` on a free loopback port, say which, serve forever."""
    import waitress.server

    server = waitress.server.create_server(wsgi, host="127.0.0.1", port=0, threads=threads,
                                           connection_limit=connection_limit)
    print(f"port {server.effective_port}", flush=True)
    server.run()


def start_server(script: str, kind: str, url: str,
                 threads: int) -> tuple[subprocess.Popen, int]:
    """In the parent: ``script --serve kind`` on ``url``; the process and its port."""
    process = subprocess.Popen(
        [sys.executable, script, "--serve", kind, "--database-url", url,
         "--threads", str(threads)],
        stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True,
        env=dict(os.environ, PYTHONUNBUFFERED="1"))
    line = process.stdout.readline()
    if not line.startswith("port "):
        process.kill()
        raise SystemExit(f"the {kind} server did not start")
    return process, int(line.split()[1])
