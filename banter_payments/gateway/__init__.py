"""The payment gateway service: which Razorpay we talk to, and how.

- ``live`` / ``test``: Razorpay itself (or ``razorpay.base_url`` when set).
- ``sandbox`` with no ``razorpay.base_url``: the built-in emulator, called in-process
  through a ``requests`` transport that invokes its WSGI app directly, so a request
  thread never waits on another thread of its own server (DESIGN.md explains the
  deadlock this avoids). The SDK code path is the same as over HTTP.
- ``sandbox`` with ``razorpay.base_url``: a standalone sandbox over real HTTP.
"""

from .interfaces import IPaymentGateway
from .services import GatewayFactory


def includeme(config) -> None:
    config.register_service_factory(
        GatewayFactory(config.registry.settings, config.route_prefix), IPaymentGateway)
