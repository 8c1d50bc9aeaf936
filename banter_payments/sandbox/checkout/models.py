"""The card a customer typed into the sandbox Checkout, as Razorpay's card entity.

Razorpay keeps a card apart from its payments (``payment.card_id``; ``GET /v1/cards/{id}``
and ``GET /v1/payments/{id}/card``), and so does the sandbox: only the last four digits
and what they imply are stored, never the number.
"""

from __future__ import annotations

import datetime as dt

from sqlalchemy import Boolean, CheckConstraint, String
from sqlalchemy.orm import Mapped, mapped_column

from banter_payments.models.meta import Base


class SandboxCard(Base):
    __tablename__ = "sandbox_cards"
    __table_args__ = (
        CheckConstraint("length(last4) = 4", name="last4_length"),
        CheckConstraint("type IN ('credit', 'debit', 'prepaid')", name="type_known"),
    )

    id: Mapped[str] = mapped_column(String(40), primary_key=True)
    name: Mapped[str | None] = mapped_column(String(100))
    last4: Mapped[str] = mapped_column(String(4))
    network: Mapped[str] = mapped_column(String(32))
    type: Mapped[str] = mapped_column(String(16))
    issuer: Mapped[str | None] = mapped_column(String(16))
    international: Mapped[bool] = mapped_column(Boolean, default=False)
    emi: Mapped[bool] = mapped_column(Boolean, default=False)
    created_at: Mapped[dt.datetime]


def card_entity(card: SandboxCard) -> dict:
    return {
        "id": card.id,
        "entity": "card",
        "name": card.name,
        "last4": card.last4,
        "network": card.network,
        "type": card.type,
        "issuer": card.issuer,
        "international": card.international,
        "emi": card.emi,
        "sub_type": "consumer",
        "token_iin": None,
    }
