"""Serving an app over real HTTP on a free loopback port: in a thread, or in a process.

``Servers`` backs the root conftest's ``serve`` fixture (threads) and ``serve_process``
fixture (separate Python processes, for what only processes can prove: two app instances
sharing a database or a rate-limit budget). Every server is stopped after the test.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import threading
from pathlib import Path
from typing import Any

import waitress.server

ROOT = Path(__file__).resolve().parents[2]


class Servers:
    """The servers one test started; ``close()`` stops them all."""

    def __init__(self) -> None:
        self._threads: list[tuple[Any, threading.Event, threading.Thread]] = []
        self._processes: list[subprocess.Popen] = []

    def serve(self, app_or_server: Any, *, threads: int = 8, **options: Any) -> str:
        """Serve a WSGI app (or run an already created waitress server) in a thread;
        return its base URL, ``http://127.0.0.1:<port>``."""
        if hasattr(app_or_server, "effective_port"):
            server = app_or_server
        else:
            server = waitress.server.create_server(app_or_server, host="127.0.0.1", port=0,
                                                   threads=threads, **options)
        closing = threading.Event()

        def loop() -> None:
            try:
                server.run()
            except OSError:
                # Closing the sockets under a running select() ends the loop this way.
                if not closing.is_set():
                    raise

        thread = threading.Thread(target=loop, daemon=True)
        thread.start()
        self._threads.append((server, closing, thread))
        return f"http://127.0.0.1:{server.effective_port}"

    def serve_process(self, settings: dict[str, Any], *, threads: int = 16,
                      slow_create_order: float = 0.0) -> tuple[subprocess.Popen, str]:
        """Serve ``main({}, **settings)`` from a new Python process (``serve_app``);
        return the process and its base URL once it listens."""
        command = [sys.executable, "-m", "tests.common.serve_app", json.dumps(settings),
                   "--threads", str(threads)]
        if slow_create_order:
            command += ["--slow-create-order", str(slow_create_order)]
        env = dict(os.environ, PYTHONUNBUFFERED="1",
                   PYTHONPATH=os.pathsep.join(filter(None, [str(ROOT),
                                                            os.environ.get("PYTHONPATH")])))
        process = subprocess.Popen(command, cwd=ROOT, env=env, stdout=subprocess.PIPE,
                                   stderr=subprocess.DEVNULL, text=True)
        self._processes.append(process)
        line = process.stdout.readline()
        if not line.startswith("port "):
            process.kill()
            raise AssertionError(f"the app process did not start: {line!r}")
        return process, f"http://127.0.0.1:{int(line.split()[1])}"

    def close(self) -> None:
        for process in self._processes:
            process.terminate()
        for process in self._processes:
            try:
                process.wait(timeout=30)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait()
        for server, closing, thread in self._threads:
            closing.set()
            server.close()
            thread.join(timeout=5)
        self._threads.clear()
        self._processes.clear()
