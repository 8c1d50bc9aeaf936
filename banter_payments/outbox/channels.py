"""The ``http`` channel: a POST signed the Standard Webhooks way.

The body is the message's envelope as compact JSON; ``webhook-id`` is the fact's id (the
same on every retry, so receivers deduplicate on it), ``webhook-timestamp`` the time of
this attempt, and ``webhook-signature`` is ``v1,<base64 HMAC-SHA256>`` of
``id.timestamp.body`` with the endpoint's secret, made by the ``standardwebhooks``
package, so a receiver in any language verifies it with that spec's libraries.

Only the endpoint's configured URL is called; redirects are not followed (a redirect is
a failure, not an invitation to post elsewhere); proxies and credentials from the
environment are ignored; what the receiver answers is read up to a bounded excerpt.
"""

from __future__ import annotations

import json
import threading

import requests
from standardwebhooks import Webhook

from ..clock import utcnow
from .interfaces import DeliveryFailed, Endpoint, OutboundMessage

USER_AGENT = "banter-payments-outbox/1"
RESPONSE_EXCERPT_BYTES = 300


def envelope_body(envelope: dict) -> str:
    return json.dumps(envelope, separators=(",", ":"), ensure_ascii=False)


def signed_headers(message_id: str, body: str, secret: str, *, timestamp=None) -> dict:
    """The three Standard Webhooks headers for ``body``."""
    timestamp = timestamp or utcnow()
    return {
        "webhook-id": message_id,
        "webhook-timestamp": str(int(timestamp.timestamp())),
        "webhook-signature": Webhook(secret).sign(message_id, timestamp, body),
    }


class HttpChannel:
    """Posts messages; one ``requests.Session`` (a connection pool) per thread."""

    def __init__(self, timeout: float) -> None:
        self.timeout = timeout
        self._local = threading.local()

    def _session(self) -> requests.Session:
        session = getattr(self._local, "session", None)
        if session is None:
            session = requests.Session()
            session.trust_env = False
            self._local.session = session
        return session

    def __call__(self, message: OutboundMessage, endpoint: Endpoint) -> str:
        body = envelope_body(message.envelope)
        headers = signed_headers(message.event_id, body, endpoint.secret or "")
        headers.update({"Content-Type": "application/json", "User-Agent": USER_AGENT})
        try:
            response = self._session().post(endpoint.target, data=body.encode("utf-8"),
                                             headers=headers, timeout=self.timeout,
                                             allow_redirects=False, stream=True)
        except requests.Timeout:
            raise DeliveryFailed(f"no answer within {self.timeout:g}s") from None
        except requests.RequestException as exc:
            raise DeliveryFailed(f"{type(exc).__name__}: {str(exc)[:300]}") from None
        try:
            excerpt = _excerpt(response)
        finally:
            response.close()
        if 200 <= response.status_code < 300:
            return f"HTTP {response.status_code}"
        raise DeliveryFailed(f"HTTP {response.status_code}: {excerpt}".rstrip(": "))


def _excerpt(response: requests.Response) -> str:
    try:
        raw = response.raw.read(RESPONSE_EXCERPT_BYTES, decode_content=True) or b""
    except Exception:
        return ""
    return raw.decode("utf-8", errors="replace").replace("\x00", "\ufffd")
