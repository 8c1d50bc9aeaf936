"""``make run PORT=8000``: the port moves; a taken port is one clear line."""

from __future__ import annotations

import socket

import pytest

from banter_payments.scripts.serve import serve_paste, with_port


def test_the_port_of_every_listen_entry_moves():
    assert with_port("127.0.0.1:6543", "8000") == "127.0.0.1:8000"
    assert with_port("127.0.0.1:6543 [::1]:6543", "8001") == "127.0.0.1:8001 [::1]:8001"
    with pytest.raises(SystemExit):
        with_port("127.0.0.1:6543", "eighty")


def test_a_taken_port_is_one_line_not_a_traceback(monkeypatch, capsys):
    taken = socket.socket()
    taken.bind(("127.0.0.1", 0))
    taken.listen()
    port = taken.getsockname()[1]
    monkeypatch.setenv("PORT", str(port))
    try:
        with pytest.raises(SystemExit) as exited:
            serve_paste(lambda environ, start: [], {}, listen="127.0.0.1:6543")
    finally:
        taken.close()
    assert exited.value.code == 1
    [line] = capsys.readouterr().err.splitlines()
    assert line == (f"Cannot serve on 127.0.0.1:{port}: the port is already in use. Stop "
                    f"what is using it, or choose another port: make run PORT=8000")


def test_starting_prints_no_pkg_resources_warning():
    import subprocess
    import sys

    result = subprocess.run(
        [sys.executable, "-c", "import banter_payments.scripts.reconcile"],
        capture_output=True, text=True, check=True)
    assert "pkg_resources" not in result.stderr
