"""What the refund routes accept."""

from __future__ import annotations

import colander

from ..schemas import FreeMapping, PageQuery, QueryBool, StrictInt, StrictSchema, StrictString

MAX_NOTES = 10
MAX_NOTE_KEY = 40
MAX_NOTE_VALUE = 256


class Notes(FreeMapping):
    """Razorpay's ``notes``: a flat object of short strings and integers."""

    def __init__(self):
        super().__init__(max_keys=MAX_NOTES)

    def deserialize(self, node, cstruct):
        cstruct = super().deserialize(node, cstruct)
        if cstruct is colander.null:
            return cstruct
        for key, value in cstruct.items():
            if not key or len(key) > MAX_NOTE_KEY:
                raise colander.Invalid(node, f"keys must be 1-{MAX_NOTE_KEY} characters")
            if isinstance(value, bool) or not isinstance(value, str | int):
                raise colander.Invalid(node, "values must be strings or integers")
            if isinstance(value, str) and len(value) > MAX_NOTE_VALUE:
                raise colander.Invalid(node, f"values must be at most {MAX_NOTE_VALUE} "
                                             f"characters")
        return dict(cstruct)

    def json_schema(self) -> dict:
        return {
            "type": "object",
            "maxProperties": MAX_NOTES,
            "additionalProperties": {
                "oneOf": [{"type": "string", "maxLength": MAX_NOTE_VALUE},
                          {"type": "integer"}],
            },
        }


class RefundBody(StrictSchema):
    amount = colander.SchemaNode(
        StrictInt(), missing=None, validator=colander.Range(min=1, max=10**12),
        description="minor units to refund; default: all that is left",
    )
    reason = colander.SchemaNode(StrictString(), validator=colander.Length(min=1, max=500))
    notes = colander.SchemaNode(
        Notes(), missing=colander.drop,
        description="passed to Razorpay with the refund (refund_id and order_id are ours)",
    )


class AdminRefundsQuery(PageQuery):
    status = colander.SchemaNode(StrictString(), missing=None,
                                 validator=colander.OneOf(["pending", "processed", "failed"]))
    shortfall = colander.SchemaNode(
        QueryBool(), missing=False,
        description="true: only refunds that could not claw back everything",
    )
