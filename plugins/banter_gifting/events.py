"""What gifting announces: subscribe to ``GiftSent`` (inside the transaction) or to
``Committed`` with ``for_event=GiftSent`` (after commit, for notifications). Other
services learn of it through the outbox's ``gift.sent`` topic (``gift_sent_fact``)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from banter_payments.clock import utcnow
from banter_payments.events import PaymentsEvent
from banter_payments.outbox.interfaces import Fact

GIFT_SENT = "gift.sent"


@dataclass(frozen=True)
class GiftSent(PaymentsEvent):
    gift: Any


def gift_sent_fact(event: GiftSent) -> Fact:
    """The ``gift.sent`` message: a gift is its own aggregate."""
    gift = event.gift
    return Fact(GIFT_SENT, "gift", gift.id, gift.created_at or utcnow(), {
        "giftId": gift.id,
        "from": gift.sender_id,
        "to": gift.recipient_id,
        "coins": gift.coins,
        "note": gift.note,
    })
