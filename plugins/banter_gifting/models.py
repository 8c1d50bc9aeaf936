"""A gift: coins one user sent another, and the ledger posting that moved them."""

from __future__ import annotations

import datetime as dt

from sqlalchemy import BigInteger, CheckConstraint, ForeignKey, Index, String
from sqlalchemy.orm import Mapped, mapped_column

from banter_payments.clock import utcnow
from banter_payments.ids import new_id
from banter_payments.models.meta import Base, Money


class Gift(Base):
    __tablename__ = "gifts"
    __table_args__ = (
        CheckConstraint("coins > 0", name="coins_positive"),
        CheckConstraint("sender_id <> recipient_id", name="not_to_oneself"),
        # The daily cap sums one sender's gifts since midnight UTC.
        Index("ix_gifts_sender_id_created_at", "sender_id", "created_at"),
        Index("ix_gifts_recipient_id_created_at", "recipient_id", "created_at"),
    )

    id: Mapped[str] = mapped_column(String(40), primary_key=True,
                                    default=lambda: new_id("gft"))
    sender_id: Mapped[str] = mapped_column(String(128))
    recipient_id: Mapped[str] = mapped_column(String(128))
    coins: Mapped[int] = mapped_column(Money)
    note: Mapped[str | None] = mapped_column(String(280))
    posting_id: Mapped[int] = mapped_column(BigInteger, ForeignKey("ledger_postings.id"),
                                            unique=True)
    created_at: Mapped[dt.datetime] = mapped_column(default=utcnow)
