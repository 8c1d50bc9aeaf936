"""What ``GET /admin/metrics`` accepts."""

from __future__ import annotations

import datetime as dt

import colander

from ..schemas import StrictSchema, StrictString
from .services import BUCKETS

# A report is at most a year and a bit long; an hourly one at most 31 days (744 points).
MAX_SPAN = dt.timedelta(days=366)
MAX_HOURLY_SPAN = dt.timedelta(days=31)


class QueryDateTime(colander.SchemaType):
    """An ISO 8601 instant with its offset (``2026-11-30T00:00:00Z``), as UTC."""

    def serialize(self, node, appstruct):
        return colander.null if appstruct is colander.null else appstruct.isoformat()

    def deserialize(self, node, cstruct):
        if cstruct is colander.null or cstruct == "":
            return colander.null
        if not isinstance(cstruct, str) or len(cstruct) > 40:
            raise colander.Invalid(node, "must be an ISO 8601 date-time")
        try:
            value = dt.datetime.fromisoformat(cstruct.replace("Z", "+00:00"))
        except ValueError:
            raise colander.Invalid(node, "must be an ISO 8601 date-time") from None
        if value.tzinfo is None:
            raise colander.Invalid(node, "must carry a UTC offset (Z or +05:30)")
        return value.astimezone(dt.UTC)

    def json_schema(self) -> dict:
        return {"type": "string", "format": "date-time"}


def span_problem(start: dt.datetime, end: dt.datetime, bucket: str) -> str | None:
    """What is wrong with the window, or None; checked again once defaults are filled."""
    if end <= start:
        return "must be after from"
    limit = MAX_HOURLY_SPAN if bucket == "hour" else MAX_SPAN
    if end - start > limit:
        return f"at most {limit.days} days after from with bucket={bucket}"
    return None


def _span(node, value) -> None:
    if value["from"] is None or value["to"] is None:
        return
    problem = span_problem(value["from"], value["to"], value["bucket"])
    if problem:
        raise colander.Invalid(node, {"to": problem})


class MetricsQuery(StrictSchema):
    """``?from=&to=&bucket=hour``; without ``from``/``to``: the last 24 hours."""

    # ``from`` is a Python keyword: the node is named in __init__.
    to = colander.SchemaNode(QueryDateTime(), missing=None,
                             description="end of the window (exclusive); default now")
    bucket = colander.SchemaNode(StrictString(), missing="hour",
                                 validator=colander.OneOf(tuple(BUCKETS)),
                                 description="hour or day (UTC)")

    def __init__(self, *args, **kwargs):
        super().__init__(*args, validator=_span, **kwargs)
        self.add_before("to", colander.SchemaNode(
            QueryDateTime(), name="from", missing=None,
            description="start of the window (inclusive); default 24 hours before to"))


class ExpositionQuery(StrictSchema):
    """``/metrics`` takes no parameters."""
