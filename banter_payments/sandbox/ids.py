"""Identifiers in Razorpay's format: a prefix, an underscore and 14 base62 characters.

Apps validate ids with Razorpay's shape (``pay_29QQoUBi66xm2f``), store them in columns
sized for it, and sometimes log or display them; a sandbox handing out anything longer or
differently shaped would let such code pass here and fail against Razorpay. The first
seven characters are the creation time in milliseconds and the last seven are random, so
ids of one kind are unique and roughly time-ordered, as Razorpay's are.
"""

from __future__ import annotations

import hashlib
import re
import secrets
import time

ALPHABET = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz"
ID_LENGTH = 14
_HALF = ID_LENGTH // 2
ID_PATTERN = re.compile(r"[a-z]+_[0-9A-Za-z]{14}\Z")


def _base62(number: int, length: int) -> str:
    chars = []
    for _ in range(length):
        number, rem = divmod(number, 62)
        chars.append(ALPHABET[rem])
    return "".join(reversed(chars))


def razorpay_id(prefix: str) -> str:
    """A new id such as ``order_DBJOWzybf0sJbb``."""
    millis = time.time_ns() // 1_000_000
    random_part = "".join(secrets.choice(ALPHABET) for _ in range(_HALF))
    return f"{prefix}_{_base62(millis, _HALF)}{random_part}"


def account_id(key_id: str) -> str:
    """The merchant account (``acc_…``) a key belongs to: fixed for a given key id, so
    webhooks carry the same ``account_id`` across restarts, as Razorpay's do."""
    digest = int.from_bytes(hashlib.sha256(key_id.encode("utf-8")).digest(), "big")
    return f"acc_{_base62(digest, ID_LENGTH)}"


def looks_like(prefix: str, value: object) -> bool:
    """Whether ``value`` has the shape of a ``prefix`` id (Razorpay refuses other shapes
    before looking anything up)."""
    return isinstance(value, str) and value.startswith(prefix + "_") and bool(
        ID_PATTERN.match(value)
    )
