"""Input of ``POST /gifts``; its coin range comes from the settings."""

from __future__ import annotations

import colander

from banter_payments.schemas import StrictInt, StrictSchema, StrictString

NOTE_MAX_LENGTH = 280


def gift_body(min_coins: int, max_coins: int) -> StrictSchema:
    class GiftBody(StrictSchema):
        to = colander.SchemaNode(
            StrictString(),
            validator=colander.All(
                colander.Length(min=1, max=128),
                colander.Regex(r"^\S(.*\S)?$", msg="must not start or end with a space"),
            ),
            description="the recipient's user id",
        )
        coins = colander.SchemaNode(
            StrictInt(), validator=colander.Range(min_coins, max_coins),
            description=f"a whole number of coins, {min_coins}-{max_coins}",
        )
        note = colander.SchemaNode(StrictString(), missing=None,
                                   validator=colander.Length(min=1, max=NOTE_MAX_LENGTH))

    return GiftBody()
