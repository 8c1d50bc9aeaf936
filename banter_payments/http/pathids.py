"""Path parameters are checked at the edge: a malformed id is a 404 before any view.

A NUL in ``/orders/%00`` used to reach ``session.get`` and make psycopg raise
``DataError`` (a 500 on PostgreSQL, a plain 404 on SQLite). A view deriver checks the
matched path values of every view (a plugin's too) after the security policy let the
request in and before the view runs: each must be short, storable and printable, and an
id must have its format (``banter_payments.ids.PATH_ID_FORMATS``). An id of the wrong
shape names nothing, so the answer is the 404 an unknown id gets: nothing reaches a query
or a log line. Authorization comes first, so a stranger still gets 401 whatever the path.
"""

from __future__ import annotations

from ..errors import NotFound
from ..ids import MAX_PATH_VALUE_LENGTH, is_valid_path_id
from ..storable import is_storable


def _acceptable(name: str, value: object) -> bool:
    return (isinstance(value, str) and len(value) <= MAX_PATH_VALUE_LENGTH
            and is_storable(value) and value.isprintable()
            and is_valid_path_id(name, value))


def check_path_ids(request) -> None:
    """Raise ``NotFound`` unless every matched path value is acceptable."""
    for name, value in (request.matchdict or {}).items():
        values = value if isinstance(value, tuple) else (value,)  # a *subpath
        if not all(_acceptable(name, part) for part in values):
            raise NotFound()


def path_ids_view(view, info):
    if info.exception_only:
        return view

    def checked(context, request):
        if getattr(request, "exception", None) is None:
            check_path_ids(request)
        return view(context, request)

    return checked


def includeme(config) -> None:
    config.add_view_deriver(path_ids_view, name="banter_payments.path_ids")
