"""Input of the wallet routes."""

from __future__ import annotations

import colander

from ..ledger.services import MAX_AMOUNT
from ..schemas import FreeMapping, PageQuery, StrictInt, StrictSchema, StrictString

NAME = colander.Regex(r"^[a-z][a-z0-9_]{0,31}$", msg="must be an asset name")
USER_ID = colander.Length(min=1, max=128)


class TransactionsQuery(PageQuery):
    asset = colander.SchemaNode(StrictString(), missing=None, validator=NAME,
                                description="only this asset's entries")
    userId = colander.SchemaNode(StrictString(), missing=None, validator=USER_ID,  # noqa: N815
                                 description="admins only: another user's history")


class WalletQuery(StrictSchema):
    userId = colander.SchemaNode(StrictString(), missing=None, validator=USER_ID,  # noqa: N815
                                 description="admins only: another user's wallet")


class DebitBody(StrictSchema):
    """A host app taking coins or credits for its own reasons."""

    userId = colander.SchemaNode(StrictString(), validator=USER_ID)  # noqa: N815
    asset = colander.SchemaNode(StrictString(), validator=NAME)
    amount = colander.SchemaNode(StrictInt(), validator=colander.Range(1, MAX_AMOUNT))
    reference = colander.SchemaNode(
        StrictString(), validator=colander.Length(min=1, max=190),
        description="the host's unique id for this debit; the same reference again "
                    "returns the first result",
    )
    description = colander.SchemaNode(StrictString(), missing="Spent in app",
                                      validator=colander.Length(min=1, max=200))
    metadata = colander.SchemaNode(FreeMapping(), missing=None)
