"""What the order routes accept."""

from __future__ import annotations

import colander

from ..schemas import (
    FreeMapping,
    PageQuery,
    StrictInt,
    StrictSchema,
    StrictString,
)

_ID = colander.Length(min=1, max=128)


class CatalogOrderBody(StrictSchema):
    """A user buys a catalog item."""

    sku = colander.SchemaNode(StrictString(), validator=colander.Length(max=100))


class CustomerBody(StrictSchema):
    email = colander.SchemaNode(StrictString(), missing=colander.drop,
                                validator=colander.All(colander.Email(),
                                                       colander.Length(max=254)))
    contact = colander.SchemaNode(StrictString(), missing=colander.drop,
                                  validator=colander.Regex(r"^\+?[0-9]{6,15}$",
                                                           "must be a phone number"))
    name = colander.SchemaNode(StrictString(), missing=colander.drop,
                               validator=colander.Length(max=120))


class ServiceOrderBody(StrictSchema):
    """A host app's backend asks for a payment for its own object (a job, a cart)."""

    amount = colander.SchemaNode(StrictInt(), validator=colander.Range(min=1,
                                                                        max=10**12))
    currency = colander.SchemaNode(StrictString(),
                                   validator=colander.Regex(r"^[A-Z]{3}$",
                                                            "must be an ISO 4217 code"))
    externalRef = colander.SchemaNode(StrictString(), validator=_ID)
    sourceApp = colander.SchemaNode(StrictString(),
                                    validator=colander.Regex(r"^[A-Za-z0-9_.-]{1,64}$",
                                                             "must be 1-64 of A-Z a-z 0-9 _ . -"))
    userId = colander.SchemaNode(StrictString(), missing=None, validator=_ID)
    description = colander.SchemaNode(StrictString(), missing="",
                                      validator=colander.Length(max=200))
    metadata = colander.SchemaNode(FreeMapping(max_keys=15), missing=colander.drop)
    customer = CustomerBody(missing=colander.drop)


class OrderListQuery(PageQuery):
    userId = colander.SchemaNode(StrictString(), missing=None, validator=_ID,
                                 description="admin only: another user's orders")


class EmptyBody(StrictSchema):
    """No fields."""
