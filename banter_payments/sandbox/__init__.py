"""The built-in Razorpay sandbox, mounted into the app when ``razorpay.mode = sandbox``.

``includeme`` builds the emulator once, keeps it in the registry (the gateway hands it to
the SDK through the in-process transport) and mounts it at ``/_sandbox/razorpay`` for
everything else: a browser's simulated checkout, curl, or an SDK over real HTTP.

Importing the package stays light (the migrations environment imports it for
``sandbox_database_url``); the emulator itself is imported when it is included.
"""

from __future__ import annotations

from pyramid.exceptions import ConfigurationError
from pyramid.security import NO_PERMISSION_REQUIRED

from .config import EMULATOR_KEY, sandbox_database_url

__all__ = ["includeme", "sandbox_database_url"]


def includeme(config) -> None:
    """Needs the core's ``add_api_operation`` directive (``banter_payments.api``)."""
    from .docs import CHECKOUT_ANSWER, CheckoutBody
    from .emulator import make_emulator
    from .mount import mounted, webhook_path
    from .tokens import TokenBody, issue_sandbox_token

    settings = config.registry.settings
    mode = settings.get("razorpay.mode") or "sandbox"
    if mode != "sandbox":
        raise ConfigurationError(
            f"banter_payments.sandbox is only for razorpay.mode = sandbox (it is {mode!r})"
        )
    emulator_settings = dict(settings)
    emulator_settings["sandbox.webhook_path"] = settings.get(
        "sandbox.webhook_path"
    ) or webhook_path(config.route_prefix)
    emulator_settings["sandbox.database_url"] = sandbox_database_url(settings)
    emulator = make_emulator(emulator_settings)
    config.registry[EMULATOR_KEY] = emulator

    config.add_route("payments.sandbox.razorpay", "/_sandbox/razorpay/*subpath")
    config.add_view(
        mounted(emulator),
        route_name="payments.sandbox.razorpay",
        permission=NO_PERMISSION_REQUIRED,
        require_csrf=False,
    )
    config.add_api_operation(
        "payments.sandbox.razorpay", "POST", tag="sandbox",
        permission=NO_PERMISSION_REQUIRED, body=CheckoutBody,
        path="/_sandbox/razorpay/checkout/{razorpay_order_id}/pay",
        summary="Simulate the customer at Razorpay Checkout; the matching webhooks follow "
                "(the rest of /_sandbox/razorpay/v1 is Razorpay's own API)",
        responses={200: "razorpay_payment_id, razorpay_order_id, razorpay_signature; or "
                        "Checkout's error object",
                   400: "Razorpay's BAD_REQUEST_ERROR envelope"},
        response_schema=CHECKOUT_ANSWER,
    )
    config.add_route("payments.sandbox.token", "/_sandbox/token", request_method="POST")
    config.add_view(
        issue_sandbox_token,
        route_name="payments.sandbox.token",
        renderer="json",
        permission=NO_PERMISSION_REQUIRED,
        require_csrf=False,
    )
    config.add_api_operation(
        "payments.sandbox.token",
        "POST",
        tag="sandbox",
        permission=NO_PERMISSION_REQUIRED,
        body=TokenBody,
        summary="A development bearer token for any user and roles (sandbox mode only)",
        responses={200: "{token}", 400: "validation_failed"},
        response_schema={
            "type": "object",
            "required": ["token"],
            "properties": {"token": {"type": "string"}},
        },
    )
