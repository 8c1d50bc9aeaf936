"""The ledger's tables: accounts, postings, and their entries.

An ``Account`` holds one asset for one owner: a user, or one of the system accounts that
value comes from and goes to (``issuance`` for purchases and grants, ``sink`` for what
users spend, ``clawback`` for what refunds take back). A ``Posting`` is one movement under
a unique ``reference``; its ``Entry`` rows sum to zero per asset. Entries are never updated
or deleted: a correction is another posting.

A user account caches its balance on the row, updated in the same transaction as its
entries, and a CHECK keeps it at zero or above. System accounts cache nothing
(``balance`` is NULL): every purchase and every spend would otherwise wait on the same
row lock until its transaction ends. A system account's balance is the sum of its
entries, which the invariant checker computes. Each user entry records the balance it
left (``balance_after``), so a page of history needs no sums.
"""

from __future__ import annotations

import datetime as dt

from sqlalchemy import (
    BigInteger,
    CheckConstraint,
    ForeignKey,
    Index,
    String,
    UniqueConstraint,
)
from sqlalchemy.orm import Mapped, mapped_column, relationship

from ..clock import utcnow
from ..models.meta import Base, BigIntKey, Money

USER = "user"
SYSTEM = "system"

# The system accounts, one per asset each.
ISSUANCE = "issuance"
SINK = "sink"
CLAWBACK = "clawback"


class Account(Base):
    __tablename__ = "ledger_accounts"
    __table_args__ = (
        UniqueConstraint("owner_kind", "owner_id", "asset", name="uq_ledger_accounts_owner"),
        CheckConstraint("owner_kind IN ('user', 'system')", name="owner_kind_known"),
        # NULL (not cached) only for system accounts; never below zero otherwise.
        CheckConstraint("balance >= 0", name="balance_not_negative"),
        CheckConstraint("owner_kind = 'system' OR balance IS NOT NULL",
                        name="user_balance_cached"),
        CheckConstraint("total_in >= 0 AND total_out >= 0", name="totals_not_negative"),
    )

    id: Mapped[int] = mapped_column(BigIntKey, primary_key=True, autoincrement=True)
    owner_kind: Mapped[str] = mapped_column(String(8))
    owner_id: Mapped[str] = mapped_column(String(128))
    asset: Mapped[str] = mapped_column(String(32))
    balance: Mapped[int | None] = mapped_column(Money)
    # Lifetime sums of what came in and went out (user accounts; 0 on system ones), kept
    # with the balance so "lifetime credits" is a read, not a scan.
    total_in: Mapped[int] = mapped_column(Money, default=0, server_default="0")
    total_out: Mapped[int] = mapped_column(Money, default=0, server_default="0")
    created_at: Mapped[dt.datetime] = mapped_column(default=utcnow)


class Posting(Base):
    __tablename__ = "ledger_postings"
    __table_args__ = (
        UniqueConstraint("reference"),
    )

    id: Mapped[int] = mapped_column(BigIntKey, primary_key=True, autoincrement=True)
    # order:<id>, refund:<id>, gift:<id>, host:<host's id>: applying one twice is a
    # unique violation, not a check in Python.
    reference: Mapped[str] = mapped_column(String(200))
    kind: Mapped[str] = mapped_column(String(32))
    description: Mapped[str] = mapped_column(String(500), default="")
    # What the caller asked for, canonical; a replay of the reference must ask for the
    # same thing (a clawback's entries may hold less than was asked, so entries alone
    # cannot tell a replay from a different request).
    request: Mapped[dict] = mapped_column(default=dict)
    metadata_: Mapped[dict] = mapped_column("metadata", default=dict)
    created_at: Mapped[dt.datetime] = mapped_column(default=utcnow)

    entries: Mapped[list[Entry]] = relationship(back_populates="posting",
                                                order_by="Entry.id")

    # Set by the service on the object it returns: True when the reference had already
    # been posted and this call changed nothing.
    replayed = False


class Entry(Base):
    __tablename__ = "ledger_entries"
    __table_args__ = (
        CheckConstraint("amount <> 0", name="amount_not_zero"),
        CheckConstraint("balance_after >= 0", name="balance_after_not_negative"),
        # History: newest first per account, keyset on id.
        Index("ix_ledger_entries_account_id_id", "account_id", "id"),
        Index("ix_ledger_entries_posting_id", "posting_id"),
    )

    id: Mapped[int] = mapped_column(BigIntKey, primary_key=True, autoincrement=True)
    posting_id: Mapped[int] = mapped_column(BigInteger, ForeignKey("ledger_postings.id"))
    account_id: Mapped[int] = mapped_column(BigInteger, ForeignKey("ledger_accounts.id"))
    asset: Mapped[str] = mapped_column(String(32))
    # Signed: positive into the account, negative out of it.
    amount: Mapped[int] = mapped_column(Money)
    # The account's cached balance after this entry; NULL on system accounts.
    balance_after: Mapped[int | None] = mapped_column(Money)
    # What the account's owner sees ("Gift to bob" on one side, "Gift from alice" on the
    # other); the posting's description when empty.
    description: Mapped[str] = mapped_column(String(500), default="")
    created_at: Mapped[dt.datetime] = mapped_column(default=utcnow)

    posting: Mapped[Posting] = relationship(back_populates="entries")
    account: Mapped[Account] = relationship()

    @property
    def shown_description(self) -> str:
        return self.description or self.posting.description
