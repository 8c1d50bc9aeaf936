"""The sandbox's browser Checkout: ``checkout.js`` with Razorpay Checkout's public API,
the modal it opens, and the customer's payment with Razorpay's test inputs.

Included into the emulator's own configuration (``make_emulator``), so it is served
wherever the emulator is: mounted in the app or standalone. The card a customer types
becomes the emulator's own card entity (``SandboxCard``), written with its payment.
"""

from __future__ import annotations


def includeme(config) -> None:
    from . import views

    config.include(views.includeme)
