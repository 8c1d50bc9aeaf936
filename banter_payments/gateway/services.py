"""Building the gateway service for a request or a job (see the package docstring)."""

from __future__ import annotations

from typing import Any

import razorpay as razorpay_sdk
import requests

from .razorpay import RazorpayGateway

SANDBOX_MOUNT = "/_sandbox/razorpay"


def _http_session() -> requests.Session:
    session = requests.Session()
    adapter = requests.adapters.HTTPAdapter(pool_connections=4, pool_maxsize=32)
    session.mount("https://", adapter)
    session.mount("http://", adapter)
    return session


class GatewayFactory:
    """The ``IPaymentGateway`` factory: one per app, called per request or job.

    ``source`` (a request or a ``banter_payments.jobs.Job``) matters only to the
    in-process sandbox: the emulator sees the app's own host (``source.host_url``), so
    the webhooks it raises for a call go back to the app that made it.
    """

    def __init__(self, settings: dict, route_prefix: str | None):
        self.settings = settings
        self.auth = (settings["razorpay.key_id"], settings["razorpay.key_secret"])
        self.inprocess = (settings["razorpay.mode"] == "sandbox"
                          and not settings["razorpay.base_url"])
        self.shared_session = None if self.inprocess else _http_session()
        mount = "/" + (route_prefix or "").strip("/") + SANDBOX_MOUNT
        self.mount = mount.replace("//", "/")

    def client_for(self, source: Any) -> razorpay_sdk.Client:
        settings = self.settings
        if self.inprocess:
            from .transport import inprocess_session

            base_url = source.host_url + self.mount
            emulator = source.registry["banter_payments.sandbox.emulator"]
            return razorpay_sdk.Client(session=inprocess_session(emulator, base_url),
                                       auth=self.auth, base_url=base_url)
        options = {}
        if settings["razorpay.base_url"]:
            options["base_url"] = settings["razorpay.base_url"].rstrip("/")
        return razorpay_sdk.Client(session=self.shared_session, auth=self.auth, **options)

    def __call__(self, context: Any, source: Any) -> RazorpayGateway:
        settings = self.settings
        client = self.client_for(source)
        client.set_app_details({"title": "banter-payments", "version": "0.1"})
        return RazorpayGateway(client, settings["razorpay.key_id"],
                               settings["razorpay.key_secret"], settings["razorpay.timeout"])
