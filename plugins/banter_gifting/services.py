"""Sending a gift: one ledger posting, one Gift row, both or neither.

The daily cap is a sum over the sender's gifts since midnight UTC. Two concurrent gifts
from one sender could both read the sum before either commits, so each gift first takes
a transaction-level lock on its sender (``banter_payments.db.lock_key``: an advisory lock
on PostgreSQL; SQLite's writers are serialized already) and reads the sum while holding
it. Every gift of one sender therefore queues on that lock, and each sees the ones
committed before it.

The lock is on the sender, not on an account row: the recipient's row (a host receiving
from hundreds of listeners at once) is locked only by the posting's balance update, from
there to the commit, not for the whole gift. Opposite gifts cannot deadlock: a gift takes
its one advisory lock before any row lock, so it never waits for it while holding a row,
and the posting locks the two account rows in ascending id order. The balance is not
read first either: the posting's conditional update is the check (``InsufficientFunds``
with the balance when it is short), and the database CHECK the last line of defence.

A gift costs, on PostgreSQL: the lock, the sum, and the posting (savepoint, the two
accounts, the posting row, one update per balance, the entries, release), then the gift
row. Nothing is read twice: the sender's new balance comes back from its update.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Any

from sqlalchemy import func, select
from zope.interface import implementer

from banter_payments.clock import utcnow
from banter_payments.db import lock_key
from banter_payments.errors import RateLimited
from banter_payments.events import EventSink
from banter_payments.ids import new_id
from banter_payments.ledger.interfaces import ILedgerService

from .events import GiftSent
from .interfaces import IGiftService
from .models import Gift

ASSET = "coins"
LIMITS_KEY = "banter_gifting.limits"


@dataclass(frozen=True)
class GiftLimits:
    min_coins: int = 1
    max_coins: int = 10_000
    daily_cap_coins: int = 50_000


def send_gift(ledger: ILedgerService, sender_id: str, recipient_id: str, coins: int,
              note: str | None, limits: GiftLimits,
              now: dt.datetime | None = None) -> tuple[Gift, int]:
    """Move ``coins`` from sender to recipient; ``(gift, the sender's new balance)``.

    Raises ``RateLimited`` past the daily cap and ``InsufficientFunds`` past the balance;
    either way nothing is written.
    """
    if sender_id == recipient_id:
        raise ValueError("a gift needs two different users")
    if not limits.min_coins <= coins <= limits.max_coins:
        raise ValueError(f"a gift is {limits.min_coins}-{limits.max_coins} coins")
    session = ledger.session
    now = now or utcnow()
    lock_key(session, f"gift-sender:{sender_id}")

    day_start = now.replace(hour=0, minute=0, second=0, microsecond=0)
    # int(): PostgreSQL sums a bigint column into a numeric (Decimal).
    sent_today = int(session.scalar(
        select(func.coalesce(func.sum(Gift.coins), 0))
        .where(Gift.sender_id == sender_id, Gift.created_at >= day_start)
    ))
    if sent_today + coins > limits.daily_cap_coins:
        next_day = day_start + dt.timedelta(days=1)
        raise RateLimited(
            f"Gifts are limited to {limits.daily_cap_coins} coins a day.",
            details={"dailyCapCoins": limits.daily_cap_coins, "sentTodayCoins": sent_today,
                     "remainingCoins": max(limits.daily_cap_coins - sent_today, 0)},
            headers={"Retry-After": str(max(int((next_day - now).total_seconds()), 1))},
        )
    gift_id = new_id("gft")
    posting = ledger.transfer(
        sender_id, recipient_id, ASSET, coins, f"gift:{gift_id}",
        f"Gift from {sender_id} to {recipient_id}", kind="gift",
        metadata={"giftId": gift_id},
        from_description=f"Gift to {recipient_id}",
        to_description=f"Gift from {sender_id}",
    )
    gift = Gift(id=gift_id, sender_id=sender_id, recipient_id=recipient_id, coins=coins,
                note=note, posting_id=posting.id, created_at=now)
    session.add(gift)
    session.flush()
    sender_balance = posting_balance(posting, sender_id)
    return gift, sender_balance


def posting_balance(posting: Any, owner_id: str) -> int:
    """The balance ``owner_id`` was left with by ``posting``: what the posting's own
    update returned (``balances_after``), read from its entries only for a replay."""
    balances_after = getattr(posting, "balances_after", None)
    if balances_after is not None and (owner_id, ASSET) in balances_after:
        return balances_after[(owner_id, ASSET)]
    return next(entry.balance_after for entry in posting.entries
                if entry.amount < 0 and entry.account.owner_id == owner_id)


@implementer(IGiftService)
class GiftService:
    """Gifts, bound to the ledger (and through it the session), the limits the plugin's
    settings gave, and an event sink; built for a request or a job alike."""

    def __init__(self, ledger: ILedgerService, limits: GiftLimits, events: EventSink):
        self.ledger = ledger
        self.limits = limits
        self.events = events

    def send(self, sender_id: str, recipient_id: str, coins: int, note: str | None,
             now: dt.datetime | None = None) -> tuple[Gift, int]:
        """``send_gift`` within the configured limits, announced with ``GiftSent``."""
        gift, balance = send_gift(self.ledger, sender_id, recipient_id, coins, note,
                                  self.limits, now=now)
        self.events.emit(GiftSent(request=self.events.source, gift=gift))
        return gift, balance


def gift_service_factory(context: Any, source: Any) -> GiftService:
    """``source`` is a request or a ``banter_payments.jobs.Job``."""
    return GiftService(source.find_service(ILedgerService), source.registry[LIMITS_KEY],
                       EventSink(source))
