"""The JSON renderer: datetimes as ISO 8601 UTC with a ``Z``."""

from __future__ import annotations

import datetime as dt

from pyramid.renderers import JSON

from .clock import isoformat


def includeme(config) -> None:
    renderer = JSON()
    renderer.add_adapter(dt.datetime, lambda value, request: isoformat(value))
    config.add_renderer("json", renderer)
