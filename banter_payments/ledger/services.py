"""The ledger service: every balance change is a posting made here.

How a posting is made, and why each step is there:

1. A posting whose reference already exists is a replay: the same request returns the
   first posting and changes nothing; a different request is ``LedgerConflict``.
2. Everything else happens inside a SAVEPOINT, so a posting that fails (insufficient
   funds) leaves nothing behind even when the caller catches the error and goes on.
3. The accounts are got or created with ``INSERT ... ON CONFLICT DO NOTHING`` in a fixed
   order (owner kind, owner, asset), so two transactions creating the same accounts
   cannot deadlock.
4. The posting row is inserted with ``ON CONFLICT (reference) DO NOTHING``: of two
   concurrent postings with one reference, the second waits on the unique index and then
   finds the first's posting, and replays it.
5. User balances change by one conditional statement each
   (``SET balance = balance + :d WHERE id = :id AND balance + :d >= 0``), in ascending
   account id order, so opposite transfers lock in the same order. No row is read and
   written back, so no update is lost; a statement that matches no row means the
   balance was short. The database CHECK is the last line of defence.
6. Entries are inserted after the balance update that locked their account, so within
   one account entry ids grow in commit order: keyset pages are stable under inserts.

Writes go through ``banter_payments.db`` (``insert_ignoring_conflict`` for the
dialect's ``ON CONFLICT DO NOTHING``, ``write`` so that zope.sqlalchemy commits a session
whose only writes are statements).

``LedgerService(session)`` works on any session: the request's or a job's (both through
``find_service(ILedgerService)``), or a script's.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from typing import Any

from sqlalchemy import and_, func, insert, or_, select, update
from sqlalchemy.orm import Session, joinedload, selectinload
from zope.interface import implementer

from ..catalog.registry import assets as registered_assets
from ..clock import utcnow
from ..db import insert_ignoring_conflict, locked, through_index, update_returning, write
from ..errors import InsufficientFunds
from .cursors import decode_cursor, encode_cursor
from .interfaces import ILedgerService, LedgerConflict
from .models import CLAWBACK, ISSUANCE, SINK, SYSTEM, USER, Account, Entry, Posting

# One posting moves at most this much of an asset: far above any real purchase, far
# below what a 64-bit balance holds.
MAX_AMOUNT = 10**15

AccountKey = tuple[str, str, str]  # (owner_kind, owner_id, asset)


@dataclass(frozen=True)
class Leg:
    """One side of a posting, before it becomes an entry."""

    owner_kind: str
    owner_id: str
    asset: str
    amount: int
    description: str = ""

    @property
    def key(self) -> AccountKey:
        return (self.owner_kind, self.owner_id, self.asset)


@implementer(ILedgerService)
class LedgerService:
    def __init__(self, session: Session, assets: Iterable[str] | None = None):
        self.session = session
        # The registered asset names; None accepts any (scripts without a registry).
        self.assets = frozenset(assets) if assets is not None else None

    # Writes

    def grant(self, owner_id: str, amounts: Mapping[str, int], reference: str,
              description: str, kind: str = "purchase",
              metadata: dict | None = None) -> Posting:
        _check_owner(owner_id)
        amounts = self._amounts(amounts)
        legs = []
        for asset, quantity in amounts.items():
            legs.append(Leg(SYSTEM, ISSUANCE, asset, -quantity))
            legs.append(Leg(USER, owner_id, asset, quantity))
        request = {"op": "grant", "kind": kind, "owner": owner_id, "amounts": amounts}
        return self._post(reference, kind, description, request, metadata,
                          [leg.key for leg in legs], lambda _balances: legs)

    def debit(self, owner_id: str, asset: str, amount: int, reference: str,
              description: str, kind: str = "spend",
              metadata: dict | None = None) -> Posting:
        _check_owner(owner_id)
        self._check_asset(asset)
        amount = _quantity(amount)
        legs = [Leg(USER, owner_id, asset, -amount), Leg(SYSTEM, SINK, asset, amount)]
        request = {"op": "debit", "kind": kind, "owner": owner_id,
                   "amounts": {asset: amount}}
        return self._post(reference, kind, description, request, metadata,
                          [leg.key for leg in legs], lambda _balances: legs)

    def transfer(self, from_owner: str, to_owner: str, asset: str, amount: int,
                 reference: str, description: str, kind: str = "transfer",
                 metadata: dict | None = None, from_description: str | None = None,
                 to_description: str | None = None) -> Posting:
        _check_owner(from_owner)
        _check_owner(to_owner)
        if from_owner == to_owner:
            raise ValueError("a transfer needs two different owners")
        self._check_asset(asset)
        amount = _quantity(amount)
        legs = [
            Leg(USER, from_owner, asset, -amount, from_description or ""),
            Leg(USER, to_owner, asset, amount, to_description or ""),
        ]
        request = {"op": "transfer", "kind": kind, "from": from_owner, "to": to_owner,
                   "amounts": {asset: amount}}
        return self._post(reference, kind, description, request, metadata,
                          [leg.key for leg in legs], lambda _balances: legs)

    def clawback(self, owner_id: str, amounts: Mapping[str, int], reference: str,
                 description: str,
                 metadata: dict | None = None) -> tuple[Posting, dict[str, int], dict[str, int]]:
        """Take back what it can, never below zero: ``(posting, collected, shortfall)``.

        A clawback that finds nothing to take still records its posting (with no
        entries), so replaying it later, after the user has bought more, takes nothing.
        """
        _check_owner(owner_id)
        amounts = self._amounts(amounts)
        request = {"op": "clawback", "kind": "clawback", "owner": owner_id,
                   "amounts": amounts}
        keys = [(kind, owner, asset) for asset in amounts
                for kind, owner in ((USER, owner_id), (SYSTEM, CLAWBACK))]

        def build(balances: dict[AccountKey, int]) -> list[Leg]:
            legs = []
            for asset, wanted in amounts.items():
                taken = min(wanted, balances[(USER, owner_id, asset)])
                if taken > 0:
                    legs.append(Leg(USER, owner_id, asset, -taken))
                    legs.append(Leg(SYSTEM, CLAWBACK, asset, taken))
            return legs

        posting = self._post(reference, "clawback", description, request, metadata, keys,
                             build, lock=True)
        collected = {asset: 0 for asset in amounts}
        for entry in posting.entries:
            if entry.amount < 0:
                collected[entry.asset] -= entry.amount
        shortfall = {asset: amounts[asset] - collected[asset] for asset in amounts}
        return posting, collected, shortfall

    def lock_accounts(self, owner_ids: Iterable[str], asset: str) -> dict[str, int]:
        self._check_asset(asset)
        owner_ids = sorted(set(owner_ids))
        for owner_id in owner_ids:
            _check_owner(owner_id)
        ids = self._account_ids([(USER, owner_id, asset) for owner_id in owner_ids])
        balances = self._lock(ids)
        return {key[1]: balance for key, balance in balances.items()}

    # Reads

    def balance(self, owner_id: str, asset: str) -> int:
        value = self.session.scalar(
            select(Account.balance).where(_user_account(owner_id, asset))
        )
        return value or 0

    def balances(self, owner_id: str, assets: Iterable[str]) -> dict[str, int]:
        assets = list(assets)
        result = dict.fromkeys(assets, 0)
        if not assets:
            return result
        rows = self.session.execute(
            select(Account.asset, Account.balance).where(
                Account.owner_kind == USER, Account.owner_id == owner_id,
                Account.asset.in_(assets),
            )
        )
        for asset, balance in rows:
            result[asset] = balance
        return result

    def totals(self, owner_id: str, asset: str) -> dict[str, int]:
        row = self.session.execute(
            select(Account.balance, Account.total_in, Account.total_out).where(
                _user_account(owner_id, asset))
        ).first()
        if row is None:
            return {"balance": 0, "totalIn": 0, "totalOut": 0}
        return {"balance": row.balance, "totalIn": row.total_in, "totalOut": row.total_out}

    def history(self, owner_id: str, asset: str | None = None, limit: int = 20,
                cursor: str | None = None) -> tuple[list[Entry], str | None]:
        """Newest first. One indexed range scan per account (an owner has one account
        per asset), so a page costs the same at the millionth entry as at the first."""
        before = decode_cursor(cursor) if cursor else None
        if not 1 <= limit <= 1000:
            raise ValueError("limit must be between 1 and 1000")
        query = select(Account.id).where(Account.owner_kind == USER,
                                         Account.owner_id == owner_id)
        if asset is not None:
            query = query.where(Account.asset == asset)
        entries: list[Entry] = []
        for account_id in self.session.scalars(query).all():
            page = through_index(
                select(Entry)
                .options(joinedload(Entry.posting))
                .where(Entry.account_id == account_id)
                .order_by(Entry.id.desc())
                .limit(limit + 1),
                Entry, "ix_ledger_entries_account_id_id",
            )
            if before is not None:
                page = page.where(Entry.id < before)
            entries.extend(self.session.scalars(page).all())
        entries.sort(key=lambda entry: entry.id, reverse=True)
        more = len(entries) > limit
        entries = entries[:limit]
        return entries, encode_cursor(entries[-1].id) if more else None

    def clawed_back(self, owner_id: str, asset: str) -> int:
        """How much of ``asset`` clawback postings have taken from ``owner_id`` in all:
        it left the balance, but was not spent."""
        return int(self.session.scalar(
            select(func.coalesce(func.sum(-Entry.amount), 0))
            .join(Posting, Posting.id == Entry.posting_id)
            .join(Account, Account.id == Entry.account_id)
            .where(_user_account(owner_id, asset), Posting.kind == "clawback",
                   Entry.amount < 0)
        ))

    def posting(self, reference: str) -> Posting | None:
        """The posting made under ``reference``, with its entries, or None."""
        return self.session.scalars(
            select(Posting).options(selectinload(Posting.entries))
            .where(Posting.reference == reference)
        ).one_or_none()

    # The posting procedure (see the module docstring)

    def _post(self, reference: str, kind: str, description: str, request: dict,
              metadata: dict | None, keys: list[AccountKey],
              build: Callable[[dict[AccountKey, int]], list[Leg]],
              lock: bool = False) -> Posting:
        _check_text("reference", reference, 200)
        _check_text("description", description, 500, allow_empty=True)
        # No look-up first: the INSERT below finds a replay by its reference anyway, and
        # a posting is far more often new than replayed.
        with self.session.begin_nested():
            ids = self._account_ids(keys)
            # RETURNING the entity puts the new posting in the session as it is, with
            # no second SELECT to load it.
            posting = write(
                self.session,
                insert_ignoring_conflict(self.session, Posting, ["reference"])
                .values(reference=reference, kind=kind, description=description,
                        request=request, metadata_=dict(metadata or {}),
                        created_at=utcnow())
                .returning(Posting)
            ).scalars().one_or_none()
            if posting is None:
                # Posted before, here or by a concurrent transaction that committed.
                existing = self.posting(reference)
                return _replay(existing, request)
            balances = self._lock(ids) if lock else {}
            legs = build(balances)
            _check_balanced(legs)
            after = self._apply(legs, ids)
            if legs:
                # One multi-row INSERT rather than a statement per entry.
                write(self.session, insert(Entry).values([
                    {
                        "posting_id": posting.id,
                        "account_id": ids[leg.key],
                        "asset": leg.asset,
                        "amount": leg.amount,
                        "balance_after": after.get(leg.key),
                        "description": leg.description,
                        "created_at": utcnow(),
                    }
                    for leg in legs
                ]))
        # Its entries load when a caller reads them; fulfilment never does. What each
        # update returned saves a caller that wants a new balance from reading them.
        posting.replayed = False
        posting.balances_after = {(key[1], key[2]): balance for key, balance in after.items()}
        return posting

    def _apply(self, legs: list[Leg], ids: dict[AccountKey, int]) -> dict[AccountKey, int]:
        """Change the user balances, in ascending account id order; their new values."""
        deltas: dict[AccountKey, int] = {}
        for leg in legs:
            if leg.owner_kind == USER:
                deltas[leg.key] = deltas.get(leg.key, 0) + leg.amount
        after = {}
        for key in sorted(deltas, key=ids.__getitem__):
            delta = deltas[key]
            row = update_returning(
                self.session,
                update(Account)
                .where(Account.id == ids[key], Account.balance + delta >= 0)
                .values(balance=Account.balance + delta,
                        total_in=Account.total_in + max(delta, 0),
                        total_out=Account.total_out + max(-delta, 0))
                .execution_options(synchronize_session=False),
                Account.balance,
            )
            if row is None:
                balance = self.session.scalar(select(Account.balance)
                                              .where(Account.id == ids[key]))
                raise InsufficientFunds(details={
                    "asset": key[2], "balance": balance or 0, "required": -delta,
                })
            after[key] = row.balance
        return after

    def _account_ids(self, keys: Iterable[AccountKey]) -> dict[AccountKey, int]:
        """Get or create the accounts, inserting in key order (no deadlock between two
        transactions creating the same accounts)."""
        keys = sorted(set(keys))
        ids = self._select_accounts(keys)
        missing = [key for key in keys if key not in ids]
        for key in missing:
            owner_kind, owner_id, asset = key
            created = write(
                self.session,
                insert_ignoring_conflict(self.session, Account,
                                         ["owner_kind", "owner_id", "asset"])
                .values(owner_kind=owner_kind, owner_id=owner_id, asset=asset,
                        balance=None if owner_kind == SYSTEM else 0,
                        total_in=0, total_out=0, created_at=utcnow())
                .returning(Account.id)
            ).scalar()
            if created is not None:
                ids[key] = created
        raced = [key for key in missing if key not in ids]
        if raced:
            # A concurrent transaction created them first.
            ids.update(self._select_accounts(raced))
        return ids

    def _select_accounts(self, keys: list[AccountKey]) -> dict[AccountKey, int]:
        if not keys:
            return {}
        rows = self.session.execute(
            select(Account.id, Account.owner_kind, Account.owner_id, Account.asset).where(
                or_(*(and_(Account.owner_kind == kind, Account.owner_id == owner,
                           Account.asset == asset) for kind, owner, asset in keys))
            )
        )
        return {(row.owner_kind, row.owner_id, row.asset): row.id for row in rows}

    def _lock(self, ids: dict[AccountKey, int]) -> dict[AccountKey, int]:
        """Lock the user accounts among ``ids`` in ascending id order; their balances.
        (SQLite has no row locks; its writers are already serialized by BEGIN
        IMMEDIATE.)"""
        user_ids = sorted(account_id for key, account_id in ids.items() if key[0] == USER)
        if not user_ids:
            return {}
        rows = self.session.execute(locked(
            select(Account.id, Account.balance).where(Account.id.in_(user_ids))
            .order_by(Account.id)
        ))
        balances = {account_id: balance for account_id, balance in rows}
        return {key: balances[account_id] for key, account_id in ids.items()
                if account_id in balances}

    def _amounts(self, amounts: Mapping[str, int]) -> dict[str, int]:
        if not isinstance(amounts, Mapping) or not amounts:
            raise ValueError("amounts must be a non-empty {asset: quantity} mapping")
        result = {}
        for asset in sorted(amounts):
            self._check_asset(asset)
            result[asset] = _quantity(amounts[asset])
        return result

    def _check_asset(self, asset: str) -> None:
        if not isinstance(asset, str) or not asset or len(asset) > 32:
            raise ValueError(f"asset must be a name of 1-32 characters, got {asset!r}")
        if self.assets is not None and asset not in self.assets:
            raise ValueError(f"asset {asset!r} is not registered (config.add_asset)")


def _replay(existing: Posting, request: dict) -> Posting:
    if existing.request != request:
        raise LedgerConflict(details={"reference": existing.reference})
    existing.replayed = True
    existing.balances_after = None
    return existing


def _check_balanced(legs: list[Leg]) -> None:
    sums: dict[str, int] = {}
    for leg in legs:
        if leg.amount == 0:
            raise ValueError("a posting entry cannot be zero")
        sums[leg.asset] = sums.get(leg.asset, 0) + leg.amount
    if any(sums.values()):
        raise ValueError(f"a posting must sum to zero per asset, got {sums}")
    if len(legs) == 1:
        raise ValueError("a posting has no entries or at least two")


def _quantity(value: Any) -> int:
    if isinstance(value, bool) or not isinstance(value, int):
        raise ValueError(f"a quantity must be an integer, got {value!r}")
    if not 0 < value <= MAX_AMOUNT:
        raise ValueError(f"a quantity must be between 1 and {MAX_AMOUNT}, got {value}")
    return value


def _check_owner(owner_id: str) -> None:
    _check_text("owner id", owner_id, 128)


def _check_text(name: str, value: str, max_length: int, allow_empty: bool = False) -> None:
    if not isinstance(value, str) or len(value) > max_length or (not value and not allow_empty):
        raise ValueError(f"{name} must be a string of at most {max_length} characters")


def _user_account(owner_id: str, asset: str):
    return and_(Account.owner_kind == USER, Account.owner_id == owner_id,
                Account.asset == asset)


def ledger_service_factory(context: Any, source: Any) -> LedgerService:
    """``source`` is a request or a ``banter_payments.jobs.Job``."""
    return LedgerService(source.dbsession, assets=registered_assets(source.registry))
