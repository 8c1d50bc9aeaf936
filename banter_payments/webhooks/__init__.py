"""Razorpay webhooks: the signed endpoint, the record of every delivery, and replays.

The dispatch itself (``config.add_webhook_handler``) lives in ``registry``; the core's
payment handlers are registered by ``banter_payments.payments`` through it.
"""

from pyramid.security import NO_PERMISSION_REQUIRED

from .schemas import DeliveryListQuery, ReplayBody

ADMIN_ERRORS = {401: "unauthenticated", 403: "forbidden"}


def includeme(config):
    config.include(".registry")
    config.add_route("payments.webhooks.razorpay", "/webhooks/razorpay")
    config.add_route("payments.webhooks.list", "/admin/webhooks")
    config.add_route("payments.webhooks.refusals", "/admin/webhooks/refusals")
    config.add_route("payments.webhooks.show", "/admin/webhooks/{delivery_id}")
    config.add_route("payments.webhooks.replay", "/admin/webhooks/{delivery_id}/replay")

    config.add_api_operation(
        "payments.webhooks.razorpay", "POST", tag="webhooks",
        permission=NO_PERMISSION_REQUIRED,
        summary="Razorpay's signed event (X-Razorpay-Signature over the raw body), "
                "deduplicated by X-Razorpay-Event-Id, queued for the worker and "
                "acknowledged at once",
        responses={200: "{status: queued|duplicate, deliveryId}",
                   400: "signature_invalid, or validation_failed (not a JSON event)",
                   503: "service_unavailable: the database is down; nothing recorded, "
                        "deliver it again"},
        response_schema={
            "type": "object", "required": ["status", "deliveryId"],
            "properties": {
                "status": {"type": "string", "enum": ["queued", "duplicate"]},
                "deliveryId": {"type": "string"},
            },
        },
    )
    config.add_api_operation(
        "payments.webhooks.list", "GET", tag="admin", permission="admin",
        summary="Stored webhook deliveries, newest first (?status=failed)",
        query=DeliveryListQuery,
        responses={200: "{items: [Delivery], nextCursor}", 400: "validation_failed",
                   **ADMIN_ERRORS},
    )
    config.add_api_operation(
        "payments.webhooks.refusals", "GET", tag="admin", permission="admin",
        summary="Unsigned deliveries counted per day, reason and sender network, newest "
                "day first (the last 500 counters)",
        responses={200: "{items: [{day, reason, source, count, firstSeenAt, lastSeenAt}]}",
                   **ADMIN_ERRORS},
    )
    config.add_api_operation(
        "payments.webhooks.show", "GET", tag="admin", permission="admin",
        summary="One stored delivery with its headers, raw body and traceback",
        responses={200: "Delivery", 404: "not_found", **ADMIN_ERRORS},
    )
    config.add_api_operation(
        "payments.webhooks.replay", "POST", tag="admin", permission="admin",
        body=ReplayBody,
        summary="Dispatch a stored delivery again (recorded as a new delivery)",
        responses={200: "the new Delivery; its status says how the replay went",
                   404: "not_found", 409: "conflict: the delivery was refused on arrival",
                   **ADMIN_ERRORS},
    )
    config.scan(".views")
