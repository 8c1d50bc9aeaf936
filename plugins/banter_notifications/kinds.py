"""The kinds of notification, and which outbox topic announces each.

A kind is chosen by the *topic* of the fact (``order.paid``...), as the outbox knows it:
the plugin never imports another plugin's events, so the subscription kinds apply when
the subscriptions plugin registers its topics, and never otherwise.
"""

from __future__ import annotations

PURCHASE_SUCCEEDED = "purchase_succeeded"
PAYMENT_FAILED = "payment_failed"
REFUND_PROCESSED = "refund_processed"
SUBSCRIPTION_ACTIVATED = "subscription_activated"
SUBSCRIPTION_CHARGED = "subscription_charged"
SUBSCRIPTION_PAYMENT_FAILED = "subscription_payment_failed"
SUBSCRIPTION_HALTED = "subscription_halted"
SUBSCRIPTION_CANCELLED = "subscription_cancelled"
GIFT_RECEIVED = "gift_received"

# topic -> kind
TOPIC_KINDS: dict[str, str] = {
    "order.paid": PURCHASE_SUCCEEDED,
    "payment.failed": PAYMENT_FAILED,
    "refund.processed": REFUND_PROCESSED,
    "subscription.activated": SUBSCRIPTION_ACTIVATED,
    "subscription.charged": SUBSCRIPTION_CHARGED,
    "subscription.payment_failed": SUBSCRIPTION_PAYMENT_FAILED,
    "subscription.halted": SUBSCRIPTION_HALTED,
    "subscription.cancelled": SUBSCRIPTION_CANCELLED,
    "gift.sent": GIFT_RECEIVED,
}

KINDS: tuple[str, ...] = tuple(TOPIC_KINDS.values())

# Receipts for money taken: a user may turn their mail off only where the operator
# allows it (``notifications.receipts_optional``).
RECEIPTS: frozenset[str] = frozenset({PURCHASE_SUCCEEDED, SUBSCRIPTION_CHARGED})

# The outbox topic the plugin's own mail messages travel on, to the ``email`` endpoint.
EMAIL_TOPIC = "notification.email"
EMAIL_CHANNEL = "email"
EMAIL_ENDPOINT = "email"

# Where the plugin keeps its configured ``EmailChannel`` in the registry (the preview
# script renders through it).
CHANNEL_KEY = "banter_notifications.channel"
