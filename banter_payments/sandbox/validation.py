"""Strict request parsing, answering bad input the way Razorpay does.

The emulator exists to make the app meet Razorpay's strictness before production does:
a float, a string or a boolean where an amount belongs, an unknown field, a note too
long, all answer ``BAD_REQUEST_ERROR`` with the field named, never a 500.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from typing import Any

from banter_payments.jsonparse import InvalidJSON, parse_json

from .errors import RazorpayError

Validator = Callable[[str, Any], Any]

MAX_BODY_BYTES = 64 * 1024
MAX_NOTES = 15
MAX_NOTE_LENGTH = 256
MINIMUM_ORDER_AMOUNT = 100
CURRENCIES = frozenset({"INR", "USD", "EUR", "GBP", "SGD", "AED", "AUD", "CAD"})


def parse_json_body(body: bytes) -> Any:
    """The decoded JSON body; an empty body is an empty object."""
    if len(body) > MAX_BODY_BYTES:
        raise RazorpayError("The request body is too large")
    if not body.strip():
        return {}
    try:
        return parse_json(body)
    except InvalidJSON:
        raise RazorpayError("The request body is not valid JSON") from None


def parse_object(
    data: Any,
    fields: Mapping[str, Validator],
    *,
    required: Iterable[str] = (),
) -> dict[str, Any]:
    """Validate ``data`` against ``fields``; absent optional fields are left out."""
    if not isinstance(data, dict):
        raise RazorpayError("The request body should be a JSON object")
    unknown = [name for name in data if name not in fields]
    if unknown:
        raise RazorpayError(
            f"{', '.join(unknown)} is/are not required and should not be sent",
            field=unknown[0],
        )
    for name in required:
        if data.get(name) is None:
            raise RazorpayError(f"The {name} field is required.", field=name)
    return {name: fields[name](name, value) for name, value in data.items()}


def _is_integer(value: Any) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)


def amount(minimum: int) -> Validator:
    def parse(field: str, value: Any) -> int:
        if not _is_integer(value):
            raise RazorpayError(f"The {field} must be an integer.", field=field)
        if value < minimum:
            raise RazorpayError(f"The {field} must be at least {minimum}.", field=field)
        return value

    return parse


def currency(field: str, value: Any) -> str:
    if not isinstance(value, str) or value not in CURRENCIES:
        raise RazorpayError("The currency provided is invalid.", field=field)
    return value


def text(max_length: int) -> Validator:
    def parse(field: str, value: Any) -> str | None:
        if value is None:
            return None
        if not isinstance(value, str):
            raise RazorpayError(f"The {field} must be a string.", field=field)
        if len(value) > max_length:
            raise RazorpayError(
                f"The {field} may not be greater than {max_length} characters.", field=field
            )
        return value

    return parse


def choice(*choices: str) -> Validator:
    def parse(field: str, value: Any) -> str:
        if not isinstance(value, str) or value not in choices:
            raise RazorpayError(f"The selected {field} is invalid.", field=field)
        return value

    return parse


def flag(field: str, value: Any) -> bool:
    """Razorpay's 0/1 switches, which also take JSON booleans."""
    if isinstance(value, bool):
        return value
    if _is_integer(value) and value in (0, 1):
        return bool(value)
    raise RazorpayError(f"The {field} field is invalid.", field=field)


def notes(field: str, value: Any) -> dict[str, Any]:
    """At most 15 flat key-value pairs; Razorpay also accepts an empty list."""
    if value is None or value == []:
        return {}
    if not isinstance(value, dict):
        raise RazorpayError(f"The {field} field should be an object.", field=field)
    if len(value) > MAX_NOTES:
        raise RazorpayError(f"The {field} may not have more than {MAX_NOTES} items.", field=field)
    for key, item in value.items():
        if len(key) > MAX_NOTE_LENGTH:
            raise RazorpayError(f"The {field} key {key[:20]!r} is too long.", field=field)
        if isinstance(item, str):
            if len(item) > MAX_NOTE_LENGTH:
                raise RazorpayError(
                    f"The {field}.{key} may not be greater than {MAX_NOTE_LENGTH} characters.",
                    field=field,
                )
        elif not (item is None or isinstance(item, int | float)):
            raise RazorpayError(f"The {field}.{key} must be a string or a number.", field=field)
    return dict(value)


def minimum_order_amount(currency_code: str, value: int) -> None:
    if value < MINIMUM_ORDER_AMOUNT:
        whole, minor = divmod(MINIMUM_ORDER_AMOUNT, 100)
        raise RazorpayError(
            f"The amount must be atleast {currency_code} {whole}.{minor:02d}", field="amount"
        )
