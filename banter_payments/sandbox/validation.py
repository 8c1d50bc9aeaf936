"""Strict request parsing, answering bad input the way Razorpay does.

The emulator exists to make the app meet Razorpay's strictness before production does:
a float, a word or a boolean where an amount belongs, an unknown field, a note too
long, all answer ``BAD_REQUEST_ERROR`` with the field named, never a 500. What Razorpay
accepts is accepted too: form-encoded bodies (``notes[key]=value``, as the PHP and Go
SDKs and curl ``-d`` send them), and amounts and switches given as numeric strings.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable, Mapping
from typing import Any
from urllib.parse import parse_qsl

from banter_payments.jsonparse import InvalidJSON, parse_json

from .errors import RazorpayError

Validator = Callable[[str, Any], Any]

MAX_BODY_BYTES = 64 * 1024
MAX_NOTES = 15
MAX_NOTE_LENGTH = 256
MINIMUM_ORDER_AMOUNT = 100
CURRENCIES = frozenset({"INR", "USD", "EUR", "GBP", "SGD", "AED", "AUD", "CAD"})
# Collections: Razorpay's defaults and bounds for count and skip, and the earliest
# timestamp it accepts for from/to (2000-01-01).
DEFAULT_COUNT = 10
MAX_COUNT = 100
EARLIEST_TIMESTAMP = 946684800
_DIGITS = re.compile(r"-?[0-9]{1,18}\Z")
_FORM_KEY = re.compile(r"([^\[\]]+)((?:\[[^\[\]]*\])*)\Z")
FORM_CONTENT_TYPE = "application/x-www-form-urlencoded"


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


def parse_form_body(body: bytes) -> dict[str, Any]:
    """A form-encoded body as the object it stands for: ``notes[sku]=x`` is
    ``{"notes": {"sku": "x"}}``; every value is a string, as on the wire."""
    if len(body) > MAX_BODY_BYTES:
        raise RazorpayError("The request body is too large")
    try:
        text_body = body.decode("utf-8")
        pairs = parse_qsl(text_body, keep_blank_values=True, strict_parsing=bool(text_body),
                          errors="strict")
    except (UnicodeDecodeError, ValueError):
        raise RazorpayError("The request body is not a valid form") from None
    result: dict[str, Any] = {}
    for key, value in pairs:
        match = _FORM_KEY.match(key)
        if match is None:
            raise RazorpayError(f"The field {key[:40]} is invalid.", field=key[:40])
        path = [match.group(1)] + re.findall(r"\[([^\[\]]*)\]", match.group(2))
        if len(path) > 2 or "" in path:
            raise RazorpayError(f"The field {key[:40]} is invalid.", field=path[0])
        if len(path) == 1:
            if isinstance(result.get(path[0]), dict):
                raise RazorpayError(f"The {path[0]} field is invalid.", field=path[0])
            result[path[0]] = value
        else:
            nested = result.setdefault(path[0], {})
            if not isinstance(nested, dict):
                raise RazorpayError(f"The {path[0]} field is invalid.", field=path[0])
            nested[path[1]] = value
    return result


def parse_body(body: bytes, content_type: str | None) -> Any:
    """JSON unless the request says it is a form, as Razorpay reads it. A JSON object
    may spell nested fields the form way too (the Node SDK sends ``"notes[sku]": "x"``)."""
    if (content_type or "").split(";")[0].strip().lower() == FORM_CONTENT_TYPE:
        return parse_form_body(body)
    data = parse_json_body(body)
    if isinstance(data, dict) and any("[" in key for key in data):
        return _fold_brackets(data)
    return data


def _fold_brackets(data: dict[str, Any]) -> dict[str, Any]:
    result: dict[str, Any] = {}
    for key, value in data.items():
        match = _FORM_KEY.match(key)
        path = ([match.group(1)] + re.findall(r"\[([^\[\]]*)\]", match.group(2))
                if match else [key])
        if len(path) == 1:
            if isinstance(result.get(key), dict) and isinstance(value, dict):
                result[key].update(value)
            else:
                result[key] = value
            continue
        if len(path) > 2 or "" in path:
            raise RazorpayError(f"The field {key[:40]} is invalid.", field=path[0])
        nested = result.setdefault(path[0], {})
        if not isinstance(nested, dict):
            raise RazorpayError(f"The {path[0]} field is invalid.", field=path[0])
        nested[path[1]] = value
    return result


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


def _integer(field: str, value: Any) -> int:
    """An integer, or a string of digits (what a form carries), never a float or a bool."""
    if _is_integer(value):
        return value
    if isinstance(value, str) and _DIGITS.match(value.strip()):
        return int(value.strip())
    raise RazorpayError(f"The {field} must be an integer.", field=field)


def amount(minimum: int) -> Validator:
    def parse(field: str, value: Any) -> int:
        value = _integer(field, value)
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
    """Razorpay's 0/1 switches, which also take booleans and their string forms."""
    if isinstance(value, bool):
        return value
    if _is_integer(value) and value in (0, 1):
        return bool(value)
    if isinstance(value, str) and value.strip().lower() in ("0", "1", "true", "false"):
        return value.strip().lower() in ("1", "true")
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


def optional(validator: Validator) -> Validator:
    """``validator``, letting an explicit null through as ``None``."""

    def parse(field: str, value: Any) -> Any:
        return None if value is None else validator(field, value)

    return parse


def email(field: str, value: Any) -> str | None:
    value = text(64)(field, value)
    if value is not None and not re.fullmatch(r"[^@\s]+@[^@\s]+\.[^@\s]+", value):
        raise RazorpayError(f"The {field} must be a valid email address.", field=field)
    return value


def contact(field: str, value: Any) -> str | None:
    if _is_integer(value):
        value = str(value)
    value = text(15)(field, value)
    if value is not None and not re.fullmatch(r"\+?[0-9][0-9 -]{7,14}", value):
        raise RazorpayError("Contact number should be at least 8 digits, including country code",
                            field=field)
    return value


def collection_query(query: Mapping[str, str], extra: Mapping[str, Validator] | None = None
                     ) -> dict[str, Any]:
    """``count``, ``skip``, ``from`` and ``to`` of a collection, with Razorpay's bounds
    and messages; ``extra`` adds the filters one collection takes."""
    fields: dict[str, Validator] = {
        "count": _bounded(1, MAX_COUNT),
        "skip": _bounded(0, None),
        "from": _bounded(EARLIEST_TIMESTAMP, None),
        "to": _bounded(EARLIEST_TIMESTAMP, None),
        **(extra or {}),
    }
    parsed = parse_object(dict(query), fields)
    if "from" in parsed and "to" in parsed and parsed["from"] > parsed["to"]:
        raise RazorpayError("The from must be less than or equal to to.", field="from")
    parsed.setdefault("count", DEFAULT_COUNT)
    parsed.setdefault("skip", 0)
    return parsed


def _bounded(minimum: int, maximum: int | None) -> Validator:
    def parse(field: str, value: Any) -> int:
        value = _integer(field, value)
        if value < minimum:
            raise RazorpayError(f"The {field} must be at least {minimum}.", field=field)
        if maximum is not None and value > maximum:
            raise RazorpayError(f"The {field} may not be greater than {maximum}.", field=field)
        return value

    return parse


def id_of(prefix: str) -> Validator:
    """A filter naming another entity by id (``payment_id``, ``receipt``...)."""

    def parse(field: str, value: Any) -> str:
        if not isinstance(value, str) or not value.startswith(prefix + "_") or len(value) > 40:
            raise RazorpayError(f"The {field} is not a valid id.", field=field)
        return value

    return parse
