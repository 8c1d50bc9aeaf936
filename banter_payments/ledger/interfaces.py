"""What the rest of the code may ask of the wallet ledger."""

from __future__ import annotations

from zope.interface import Attribute, Interface

from ..errors import Conflict


class LedgerConflict(Conflict):
    """A reference that was already posted, asked for again with different amounts or
    parties (TigerBeetle's ``exists_with_different_amount``): 409 ``conflict``."""

    message = "This reference was already posted with different amounts."


class ILedgerService(Interface):
    """A double-entry ledger inside the request's SQLAlchemy session.

    Every movement is a posting with a unique ``reference``: posting the same reference
    again with the same entries returns the first posting and changes nothing; with
    different entries it raises ``LedgerConflict``. User balances never go below zero.
    """

    session = Attribute("The SQLAlchemy session the ledger writes in.")

    def grant(owner_id, amounts, reference, description, kind="purchase", metadata=None):
        """Issue ``amounts`` ({asset: quantity > 0}) to ``owner_id`` from the issuance
        account. Returns the posting."""

    def debit(owner_id, asset, amount, reference, description, kind="spend", metadata=None):
        """Take ``amount`` of ``asset`` from ``owner_id`` into the sink account; raises
        ``InsufficientFunds`` when the balance is short. Returns the posting."""

    def transfer(from_owner, to_owner, asset, amount, reference, description,
                 kind="transfer", metadata=None, from_description=None,
                 to_description=None):
        """Move ``amount`` between two users in one posting (both sides or neither);
        raises ``InsufficientFunds`` when the sender's balance is short. Each side's
        history shows its own description when given ("Gift to bob" / "Gift from
        alice"), else ``description``."""

    def clawback(owner_id, amounts, reference, description, metadata=None):
        """Take back up to ``amounts`` ({asset: quantity}) into the clawback account,
        never below zero. Returns ``(posting, collected, shortfall)``."""

    def balance(owner_id, asset):
        """The cached balance, O(1)."""

    def balances(owner_id, assets):
        """{asset: balance} for the given assets (0 where no account exists yet)."""

    def history(owner_id, asset=None, limit=20, cursor=None):
        """A keyset page of the owner's entries: ``(entries, next_cursor)``."""

    def totals(owner_id, asset):
        """``{"balance", "totalIn", "totalOut"}``: the balance and the lifetime sums of
        what came in and went out, O(1)."""

    def clawed_back(owner_id, asset):
        """How much of ``asset`` clawbacks have taken from ``owner_id`` in all."""

    def lock_accounts(owner_ids, asset):
        """Lock the owners' accounts of ``asset`` (creating them) in ascending id order
        until the transaction ends, so a check that must hold under concurrency (a daily
        cap) can run before a posting. Returns ``{owner_id: balance}``."""
