"""Who a user is, as the host app knows it: ``config.set_user_directory(lookup)``.

The core keeps user ids only; names, addresses and languages belong to the host. One
directory answers for every feature that needs them (gifting asks whether a recipient
exists, notifications ask where to send a receipt)::

    def lookup(request, user_id):
        user = request.dbsession.get(HostUser, user_id)  # or an HTTP call, a cache...
        if user is None:
            return None                      # no such user
        return UserInfo(name=user.display_name, email=user.email, locale=user.locale)

    config.set_user_directory(lookup)

``lookup(request, user_id)`` returns a ``UserInfo`` (or a mapping with ``name``,
``email``, ``locale``), ``True`` for a user it knows nothing more about, or ``None`` /
``False`` for one that does not exist. ``request`` is whatever the code asking holds: a
request, or a worker's ``Job`` (both have ``registry``, ``dbsession`` and
``find_service``). Without a directory every well-formed user id exists and nothing
more is known. A second ``set_user_directory`` is a start-up conflict.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

from pyramid.exceptions import ConfigurationError

from .arguments import a_callable, check_arguments

log = logging.getLogger(__name__)

DIRECTORY_KEY = "banter_payments.user_directory"

Lookup = Callable[[Any, str], Any]


@dataclass(frozen=True)
class UserInfo:
    """What the host says about a user; any field may be unknown (None)."""

    user_id: str
    name: str | None = None
    email: str | None = None
    locale: str | None = None


def set_user_directory(config, lookup: Lookup) -> None:
    try:
        lookup = config.maybe_dotted(lookup)
    except (ImportError, ValueError) as exc:
        raise ConfigurationError(f"config.set_user_directory: user directory {lookup!r} "
                                 f"cannot be imported ({exc})") from None
    check_arguments("config.set_user_directory", {"user directory": (lookup, a_callable)})

    def register():
        config.registry[DIRECTORY_KEY] = lookup

    config.action((DIRECTORY_KEY,), register)


def _text(value: Any) -> str | None:
    return value.strip() or None if isinstance(value, str) else None


def _normalized(user_id: str, answer: Any) -> UserInfo | None:
    if answer is None or answer is False:
        return None
    if isinstance(answer, UserInfo):
        return answer
    if isinstance(answer, Mapping):
        return UserInfo(user_id=user_id, name=_text(answer.get("name")),
                        email=_text(answer.get("email")), locale=_text(answer.get("locale")))
    if answer is True:
        return UserInfo(user_id=user_id)
    raise TypeError(f"the user directory answered {type(answer).__name__} for a user; "
                    f"expected UserInfo, a mapping, True, False or None")


def find_user(request: Any, user_id: str) -> UserInfo | None:
    """The directory's answer for ``user_id``: a ``UserInfo``, or None when the user does
    not exist. Without a directory, every user exists and nothing more is known."""
    lookup = request.registry.get(DIRECTORY_KEY)
    if lookup is None:
        return UserInfo(user_id=user_id)
    return _normalized(user_id, lookup(request, user_id))


def has_user_directory(registry) -> bool:
    return registry.get(DIRECTORY_KEY) is not None


def includeme(config) -> None:
    config.add_directive("set_user_directory", set_user_directory)
