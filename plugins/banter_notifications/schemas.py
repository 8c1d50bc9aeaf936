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


def preferences_body(mailed: list[str]) -> StrictSchema:
    """``{"email": {"<kind>": false}}``: only the kinds this service mails."""

    class EmailChoices(StrictSchema):
        pass

    choices = EmailChoices()
    for kind in KINDS:
        if kind in mailed:
            choices.add(colander.SchemaNode(StrictBool(), name=kind, missing=colander.drop,
                                            description=f"mail {kind.replace('_', ' ')}"))

    class PreferencesBody(StrictSchema):
        email = choices

    return PreferencesBody()
