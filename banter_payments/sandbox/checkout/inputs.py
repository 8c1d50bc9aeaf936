"""What the customer types into the sandbox Checkout, and what Razorpay's test mode
makes of it.

Razorpay publishes test inputs that decide a payment's outcome: card 4111 1111 1111 1111
succeeds and 4000 0000 0000 0002 is declined; UPI ``success@razorpay`` succeeds and
``failure@razorpay`` fails; net banking and wallets show a bank page where the customer
picks success or failure. The sandbox follows those rules, and any other well-formed
card number or VPA succeeds. Malformed input is refused before a payment exists, as
Checkout's own form refuses it.
"""

from __future__ import annotations

import datetime as dt
import re
from dataclasses import dataclass
from typing import Any

from ..errors import RazorpayError

FAILING_CARD = "4000000000000002"
FAILING_VPA = "failure@razorpay"
# Razorpay's bank codes and wallet names; the Checkout offers these.
BANKS = {
    "HDFC": "HDFC Bank",
    "ICIC": "ICICI Bank",
    "SBIN": "State Bank of India",
    "UTIB": "Axis Bank",
    "KKBK": "Kotak Mahindra Bank",
}
WALLETS = {
    "paytm": "Paytm",
    "phonepe": "PhonePe",
    "amazonpay": "Amazon Pay",
    "mobikwik": "MobiKwik",
}
# First digits -> network, longest prefix first (Razorpay's network names).
NETWORKS = (
    (("34", "37"), "American Express"),
    (("36", "38", "300", "301", "302", "303", "304", "305"), "Diners Club"),
    (("35",), "JCB"),
    (("508", "60", "65", "81", "82"), "RuPay"),
    (tuple(str(n) for n in range(51, 56)), "MasterCard"),
    (tuple(str(n) for n in range(2221, 2721)), "MasterCard"),
    (("50", "56", "57", "58", "63", "67"), "Maestro"),
    (("4",), "Visa"),
)
VPA = re.compile(r"[A-Za-z0-9.\-_]{2,40}@[A-Za-z]{2,20}\Z")
EMAIL = re.compile(r"[^@\s]{1,64}@[^@\s]{1,120}\Z")
CONTACT = re.compile(r"\+?[0-9]{8,15}\Z")


@dataclass(frozen=True)
class Card:
    last4: str
    network: str
    name: str | None
    succeeds: bool


def luhn_ok(number: str) -> bool:
    total = 0
    for index, char in enumerate(reversed(number)):
        digit = int(char)
        if index % 2:
            digit *= 2
            if digit > 9:
                digit -= 9
        total += digit
    return total % 10 == 0


def network_of(number: str) -> str:
    for prefixes, network in NETWORKS:
        if number.startswith(prefixes):
            return network
    return "Unknown"


def _invalid(description: str, field: str) -> RazorpayError:
    return RazorpayError(description, field=field)


def parse_card(data: Any, *, today: dt.date) -> Card:
    """A card from ``{"number", "expiry": "MM/YY", "cvv", "name"?}``; refused when malformed."""
    if not isinstance(data, dict):
        raise _invalid("Card details are required", "card")
    number = re.sub(r"[\s-]", "", str(data.get("number") or ""))
    if not (number.isdigit() and 12 <= len(number) <= 19 and luhn_ok(number)):
        raise _invalid("Your card number is invalid.", "card[number]")
    match = re.fullmatch(r"\s*(\d{1,2})\s*/\s*(\d{2}|\d{4})\s*", str(data.get("expiry") or ""))
    if not match or not 1 <= int(match.group(1)) <= 12:
        raise _invalid("Your card's expiry date is invalid.", "card[expiry]")
    month, year = int(match.group(1)), int(match.group(2))
    year = year + 2000 if year < 100 else year
    if (year, month) < (today.year, today.month):
        raise _invalid("Your card has expired.", "card[expiry]")
    network = network_of(number)
    cvv = str(data.get("cvv") or "")
    cvv_length = 4 if network == "American Express" else 3
    if not (cvv.isdigit() and len(cvv) == cvv_length):
        raise _invalid("Your card's CVV is invalid.", "card[cvv]")
    name = data.get("name")
    name = str(name).strip()[:100] if name else None
    return Card(number[-4:], network, name or None, number != FAILING_CARD)


def parse_vpa(value: Any) -> str:
    vpa = str(value or "").strip()
    if not VPA.match(vpa):
        raise _invalid("Invalid VPA. Please enter a valid Virtual Payment Address", "vpa")
    return vpa


def parse_choice(value: Any, choices: dict[str, str], field: str) -> str:
    if not isinstance(value, str) or value not in choices:
        raise _invalid(f"The {field} selected is invalid.", field)
    return value


def parse_outcome(value: Any) -> bool:
    """The bank page's button: ``success`` or ``failure``."""
    if value not in ("success", "failure"):
        raise _invalid("Choose success or failure on the bank page.", "outcome")
    return value == "success"


def parse_contact(data: dict[str, Any]) -> dict[str, str]:
    """Email and phone as the customer confirmed them (Checkout asks for both)."""
    email = str(data.get("email") or "").strip()
    contact = str(data.get("contact") or "").strip().replace(" ", "")
    if not EMAIL.match(email):
        raise _invalid("Please enter a valid email address.", "email")
    if not CONTACT.match(contact):
        raise _invalid("Please enter a valid contact number.", "contact")
    return {"email": email[:255], "contact": contact[:32]}
