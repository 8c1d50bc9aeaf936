"""Opaque, time-ordered identifiers (``ord_01JD...``), and the shapes ids may take.

Ids sort by creation time (48 bits of milliseconds, then 80 random bits, Crockford
base32, as ULID does), so "newest first" keyset pagination can order by id alone.

``PATH_ID_FORMATS`` says what each id in a route's path looks like (ours and Razorpay's).
``banter_payments.http.pathids`` answers 404 for a path id of the wrong shape before any
view, query or log line sees it, and the OpenAPI document states the same patterns.
"""

from __future__ import annotations

import re
import secrets
import time

_ALPHABET = "0123456789ABCDEFGHJKMNPQRSTVWXYZ"


def _encode(number: int, length: int) -> str:
    chars = []
    for _ in range(length):
        number, rem = divmod(number, 32)
        chars.append(_ALPHABET[rem])
    return "".join(reversed(chars))


def new_id(prefix: str) -> str:
    millis = time.time_ns() // 1_000_000
    value = (millis << 80) | secrets.randbits(80)
    return f"{prefix}_{_encode(value, 26)}"


# Our ids: a lowercase prefix, "_", 26 characters of Crockford base32.
OUR_ID_BODY = "[0-9A-HJKMNP-TV-Z]{26}"
# Razorpay's: a lowercase prefix ("order", "pay", "rfnd", ...), "_", 14 alphanumerics
# today; up to 40 accepted, so a longer id Razorpay may issue one day still passes.
RAZORPAY_ID_BODY = "[A-Za-z0-9]{1,40}"


def our_id_pattern(prefix: str) -> str:
    return f"^{prefix}_{OUR_ID_BODY}$"


def razorpay_id_pattern(prefix: str) -> str:
    return f"^{prefix}_{RAZORPAY_ID_BODY}$"


# Path parameter name -> the pattern (JSON Schema / ``re`` syntax) of its value. A route
# whose parameter is not listed still gets the general rule (short, storable, printable).
# The longest value any path parameter may have (an id is far shorter).
MAX_PATH_VALUE_LENGTH = 200

PATH_ID_FORMATS: dict[str, str] = {
    "order_id": our_id_pattern("ord"),
    "delivery_id": our_id_pattern("whd"),
    "refund_id": our_id_pattern("rfd"),
    "razorpay_order_id": razorpay_id_pattern("order"),
    "razorpay_payment_id": razorpay_id_pattern("pay"),
    "razorpay_refund_id": razorpay_id_pattern("rfnd"),
}
_COMPILED = {name: re.compile(pattern) for name, pattern in PATH_ID_FORMATS.items()}


def is_valid_path_id(name: str, value: str) -> bool:
    """True when ``value`` has the shape of the path parameter ``name``."""
    pattern = _COMPILED.get(name)
    return pattern is None or pattern.fullmatch(value) is not None
