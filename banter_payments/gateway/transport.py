"""A ``requests`` transport that calls a WSGI application in the same process.

When the sandbox is mounted in the app itself, calling it over HTTP from a request
thread means waiting for another thread of the same server's pool; under load every
thread waits for one that never comes and the server deadlocks. This adapter serves the
SDK's ``requests`` calls by invoking the WSGI app directly on the calling thread, so the
SDK's code path (URL building, auth, JSON, error mapping) stays exactly what it is
against Razorpay, minus the socket.

What a socket would give and this does not: ``timeout`` cannot interrupt a call (the
app runs on the caller's thread), and ``verify``, ``cert`` and ``proxies`` mean nothing.
An exception escaping the app becomes a 500, as a real server would answer.
"""

from __future__ import annotations

import datetime as dt
import io
import logging
import sys
from collections.abc import Callable, Iterable
from typing import Any
from urllib.parse import unquote_to_bytes, urlsplit

import requests
from requests.adapters import BaseAdapter
from requests.structures import CaseInsensitiveDict
from requests.utils import get_encoding_from_headers

log = logging.getLogger(__name__)

WSGIApp = Callable[[dict[str, Any], Callable[..., Any]], Iterable[bytes]]

# Headers WSGI carries as CONTENT_TYPE / CONTENT_LENGTH rather than HTTP_*.
_CGI_HEADERS = frozenset({"content-type", "content-length"})


class WSGITransport(BaseAdapter):
    """Serve ``requests`` calls with a WSGI app; ``script_name`` is its mount path."""

    def __init__(self, app: WSGIApp, script_name: str = "") -> None:
        super().__init__()
        self.app = app
        self.script_name = script_name.rstrip("/")

    def send(
        self,
        request: requests.PreparedRequest,
        stream: bool = False,
        timeout: Any = None,
        verify: Any = True,
        cert: Any = None,
        proxies: Any = None,
    ) -> requests.Response:
        environ = self._environ(request)
        captured: dict[str, Any] = {}

        def start_response(status: str, headers: list[tuple[str, str]], exc_info: Any = None):
            if exc_info is not None and captured.get("sent"):
                raise exc_info[1].with_traceback(exc_info[2])
            captured["status"] = status
            captured["headers"] = headers
            return lambda chunk: captured.setdefault("written", []).append(chunk)

        started = dt.datetime.now(dt.UTC)
        try:
            result = self.app(environ, start_response)
            try:
                chunks = list(captured.pop("written", [])) + [bytes(c) for c in result]
                captured["sent"] = True
            finally:
                close = getattr(result, "close", None)
                if close is not None:
                    close()
        except Exception:
            log.exception("in-process WSGI app raised on %s %s", request.method, request.url)
            captured = {
                "status": "500 Internal Server Error",
                "headers": [("Content-Type", "text/plain")],
            }
            chunks = [b"Internal Server Error"]
        return self._response(request, captured, b"".join(chunks), started)

    def close(self) -> None:
        return None

    def _environ(self, request: requests.PreparedRequest) -> dict[str, Any]:
        url = urlsplit(request.url)
        scheme = url.scheme or "http"
        port = url.port or (443 if scheme == "https" else 80)
        raw_path = unquote_to_bytes(url.path or "/").decode("latin-1")
        if self.script_name and raw_path.startswith(self.script_name):
            script_name, path_info = self.script_name, raw_path[len(self.script_name) :]
        else:
            script_name, path_info = "", raw_path
        body = _body_bytes(request.body)
        environ: dict[str, Any] = {
            "REQUEST_METHOD": (request.method or "GET").upper(),
            "SCRIPT_NAME": script_name,
            "PATH_INFO": path_info,
            "QUERY_STRING": url.query,
            "SERVER_NAME": url.hostname or "localhost",
            "SERVER_PORT": str(port),
            "SERVER_PROTOCOL": "HTTP/1.1",
            "REMOTE_ADDR": "127.0.0.1",
            "CONTENT_LENGTH": str(len(body)),
            "wsgi.version": (1, 0),
            "wsgi.url_scheme": scheme,
            "wsgi.input": io.BytesIO(body),
            "wsgi.errors": sys.stderr,
            "wsgi.multithread": True,
            "wsgi.multiprocess": False,
            "wsgi.run_once": False,
        }
        for name, value in request.headers.items():
            key = name.lower()
            if key == "content-type":
                environ["CONTENT_TYPE"] = value
            elif key not in _CGI_HEADERS:
                environ["HTTP_" + name.upper().replace("-", "_")] = value
        environ.setdefault("HTTP_HOST", url.netloc)
        return environ

    def _response(
        self,
        request: requests.PreparedRequest,
        captured: dict[str, Any],
        body: bytes,
        started: dt.datetime,
    ) -> requests.Response:
        response = requests.Response()
        code, _, reason = captured["status"].partition(" ")
        response.status_code = int(code)
        response.reason = reason
        response.headers = CaseInsensitiveDict(captured["headers"])
        response.encoding = get_encoding_from_headers(response.headers)
        response._content = body
        response._content_consumed = True
        response.raw = io.BytesIO(body)
        response.url = request.url
        response.request = request
        response.connection = self
        response.elapsed = dt.datetime.now(dt.UTC) - started
        return response


def _body_bytes(body: Any) -> bytes:
    if body is None:
        return b""
    if isinstance(body, str):
        return body.encode("utf-8")
    if isinstance(body, bytes | bytearray | memoryview):
        return bytes(body)
    if hasattr(body, "read"):
        data = body.read()
        return data.encode("utf-8") if isinstance(data, str) else bytes(data)
    return b"".join(c.encode("utf-8") if isinstance(c, str) else bytes(c) for c in body)


def inprocess_session(app: WSGIApp, base_url: str) -> requests.Session:
    """A ``requests.Session`` whose calls under ``base_url`` are served by ``app``.

    ``base_url`` is the app's mount point as the caller addresses it, e.g.
    ``http://localhost/api/payments/_sandbox/razorpay``: its path becomes the WSGI
    ``SCRIPT_NAME`` and the rest of each URL the ``PATH_INFO``. Other URLs go through
    the session's ordinary adapters.
    """
    base_url = base_url.rstrip("/")
    session = requests.Session()
    session.trust_env = False
    session.mount(base_url, WSGITransport(app, script_name=urlsplit(base_url).path))
    return session
