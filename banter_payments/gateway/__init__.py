"""The payment gateway service: which Razorpay we talk to, and how.

- ``live`` / ``test``: Razorpay itself (or ``razorpay.base_url`` when set).
- ``sandbox`` with no ``razorpay.base_url``: the built-in emulator, called in-process
  through a ``requests`` transport that invokes its WSGI app directly, so a request
  thread never waits on another thread of its own server (DESIGN.md explains the
  deadlock this avoids). The SDK code path is the same as over HTTP.
- ``sandbox`` with ``razorpay.base_url``: a standalone sandbox over real HTTP.
"""

from __future__ import annotations

import razorpay as razorpay_sdk
import requests

from .interfaces import IPaymentGateway
from .razorpay import RazorpayGateway

SANDBOX_MOUNT = "/_sandbox/razorpay"


def _http_session() -> requests.Session:
    session = requests.Session()
    adapter = requests.adapters.HTTPAdapter(pool_connections=4, pool_maxsize=32)
    session.mount("https://", adapter)
    session.mount("http://", adapter)
    return session


def includeme(config) -> None:
    settings = config.registry.settings
    auth = (settings["razorpay.key_id"], settings["razorpay.key_secret"])
    inprocess = settings["razorpay.mode"] == "sandbox" and not settings["razorpay.base_url"]
    shared_session = None if inprocess else _http_session()
    mount = "/" + (config.route_prefix or "").strip("/") + SANDBOX_MOUNT
    mount = mount.replace("//", "/")

    def client_for(request) -> razorpay_sdk.Client:
        if inprocess:
            from .transport import inprocess_session

            # The emulator sees the app's own host, so the webhooks it raises for this
            # call go back to the app that made it.
            base_url = request.host_url + mount
            emulator = request.registry["banter_payments.sandbox.emulator"]
            return razorpay_sdk.Client(session=inprocess_session(emulator, base_url), auth=auth,
                                   base_url=base_url)
        options = {}
        if settings["razorpay.base_url"]:
            options["base_url"] = settings["razorpay.base_url"].rstrip("/")
        return razorpay_sdk.Client(session=shared_session, auth=auth, **options)

    def gateway_factory(context, request):
        client = client_for(request)
        client.set_app_details({"title": "banter-payments", "version": "0.1"})
        return RazorpayGateway(client, settings["razorpay.key_id"],
                               settings["razorpay.key_secret"], settings["razorpay.timeout"])

    config.register_service_factory(gateway_factory, IPaymentGateway)
