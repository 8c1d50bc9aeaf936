"""What gifting announces: subscribe to ``GiftSent`` (inside the transaction) or to
``Committed`` with ``for_event=GiftSent`` (after commit, for notifications)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from banter_payments.events import PaymentsEvent


@dataclass(frozen=True)
class GiftSent(PaymentsEvent):
    gift: Any
