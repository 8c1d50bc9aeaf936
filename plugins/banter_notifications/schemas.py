"""What the inbox routes accept."""

from __future__ import annotations

import colander

from banter_payments.schemas import PageQuery, QueryBool, StrictBool, StrictSchema

from .kinds import KINDS


class InboxQuery(PageQuery):
    """``?unread=true&limit=&cursor=``."""

    unread = colander.SchemaNode(QueryBool(), missing=False,
                                 description="only notifications not yet read")


class EmptyBody(StrictSchema):
    """Nothing to say (``{}`` or no body)."""


LOCKED = "receipts for money taken cannot be turned off"


class AlwaysOn(colander.OneOf):
    """Only ``true``; documented as ``enum: [true]``."""

    def __init__(self) -> None:
        super().__init__([True])

    def __call__(self, node, value) -> None:
        if value is not True:
            raise colander.Invalid(node, LOCKED)


def preferences_body(mailed: list[str], locked: list[str]) -> StrictSchema:
    """``{"email": {"<kind>": false}}``: only the kinds this service mails; a receipt the
    operator keeps on accepts only ``true`` (the document says so: ``enum: [true]``)."""

    class EmailChoices(StrictSchema):
        pass

    choices = EmailChoices()
    for kind in KINDS:
        if kind in mailed:
            what = f"mail {kind.replace('_', ' ')}"
            choices.add(colander.SchemaNode(
                StrictBool(), name=kind, missing=colander.drop,
                validator=AlwaysOn() if kind in locked else None,
                description=f"{what} (always on)" if kind in locked else what))

    class PreferencesBody(StrictSchema):
        email = choices

    return PreferencesBody()
