"""Checks on what code passes to a configuration directive, one way for every directive.

A directive runs at start-up with arguments a programmer wrote (or a setting parsed), so
a wrong one is a ``ConfigurationError`` that names the directive's subject, the argument
and what was expected, raised before anything is registered::

    check_arguments(f"coin package {id!r}", {
        "id": (id, slug()),
        "coins": (coins, whole_number(minimum=1)),
        "popular": (popular, flag),
    })

Unlike the setting parsers of ``banter_payments.settings`` (which turn ini strings into
values), these convert nothing: ``"500"`` is not a whole number here, and ``True`` is
not 1. A rule is a callable that raises ``ValueError`` with the end of a sentence
("must be at least 1, got 0"); write your own the same way when these do not fit.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping
from typing import Any

from pyramid.exceptions import ConfigurationError

Rule = Callable[[Any], None]

_SLUG = re.compile(r"[a-z0-9][a-z0-9_-]*")
_CURRENCY = re.compile(r"[A-Z]{3}")


def check_arguments(subject: str, arguments: Mapping[str, tuple[Any, Rule]]) -> None:
    """Apply each argument's rule; the first that fails stops start-up."""
    for name, (value, rule) in arguments.items():
        try:
            rule(value)
        except ValueError as exc:
            raise ConfigurationError(f"{subject}: {name} {exc}") from None


def whole_number(minimum: int = 0, maximum: int | None = None) -> Rule:
    def check(value: Any) -> None:
        if isinstance(value, bool) or not isinstance(value, int):
            raise ValueError(f"must be a whole number, got {value!r}")
        if value < minimum:
            raise ValueError(f"must be at least {minimum}, got {value!r}")
        if maximum is not None and value > maximum:
            raise ValueError(f"must be at most {maximum}, got {value!r}")

    return check


def slug(max_length: int = 50) -> Rule:
    """An id that goes into a sku or a URL: lowercase letters, digits, ``-`` and ``_``."""

    def check(value: Any) -> None:
        if not isinstance(value, str) or len(value) > max_length \
                or not _SLUG.fullmatch(value):
            raise ValueError(f"must be 1-{max_length} lowercase letters, digits, '-' or "
                             f"'_', got {value!r}")

    return check


def text(max_length: int = 200, *, required: bool = True) -> Rule:
    def check(value: Any) -> None:
        if not isinstance(value, str):
            raise ValueError(f"must be a string, got {value!r}")
        if required and not value.strip():
            raise ValueError("must not be empty")
        if len(value) > max_length:
            raise ValueError(f"must be at most {max_length} characters")

    return check


def flag(value: Any) -> None:
    if not isinstance(value, bool):
        raise ValueError(f"must be True or False, got {value!r}")


def currency_code(value: Any) -> None:
    """An ISO 4217 code, or None for the app's ``banter_payments.currency``."""
    if value is not None and (not isinstance(value, str)
                              or not _CURRENCY.fullmatch(value.upper())):
        raise ValueError(f"must be a three-letter ISO 4217 code such as 'INR', got "
                         f"{value!r}")


def a_callable(value: Any) -> None:
    if not callable(value):
        raise ValueError(f"must be a callable or its dotted name, got {value!r}")


def mapping_of(key_rule: Rule, value_rule: Rule) -> Rule:
    def check(value: Any) -> None:
        if not isinstance(value, Mapping):
            raise ValueError(f"must be a mapping, got {value!r}")
        for key, item in value.items():
            try:
                key_rule(key)
                value_rule(item)
            except ValueError as exc:
                raise ValueError(f"[{key!r}] {exc}") from None

    return check


def sequence_of(item_rule: Rule) -> Rule:
    def check(value: Any) -> None:
        if isinstance(value, str | bytes) or not isinstance(value, list | tuple):
            raise ValueError(f"must be a list or tuple, got {value!r}")
        for index, item in enumerate(value):
            try:
                item_rule(item)
            except ValueError as exc:
                raise ValueError(f"[{index}] {exc}") from None

    return check
