"""Razorpay's failure reasons in words a person understands, and what to try next.

Razorpay reports a failed payment as an ``error_code`` (``BAD_REQUEST_ERROR``,
``GATEWAY_ERROR``, ``SERVER_ERROR``) and an ``error_description`` written for
developers as often as for customers. The first rule whose words appear in the
description (or whose code matches) says it plainly; otherwise the mail says the payment
did not go through and offers the usual advice.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Explanation:
    reason: str
    advice: str


_RULES: tuple[tuple[tuple[str, ...], Explanation], ...] = (
    (("insufficient",), Explanation(
        "Your bank said there was not enough money in the account.",
        "Add money to the account, or pay with another card, UPI app or bank.")),
    (("cancel",), Explanation(
        "The payment was cancelled before it finished.",
        "If that was not you, try again; nothing was taken.")),
    (("timed out", "timeout", "took too long"), Explanation(
        "The payment took too long and was stopped.",
        "Try again in a few minutes, or use another payment method.")),
    (("otp", "authentication", "3ds", "pin"), Explanation(
        "The payment was not confirmed: the OTP, PIN or bank check did not complete.",
        "Try again and finish the confirmation step on your bank's page or UPI app.")),
    (("expired",), Explanation(
        "The card has expired.",
        "Pay with another card, or with UPI or net banking.")),
    (("declined", "rejected"), Explanation(
        "Your bank declined the payment.",
        "Try another card or payment method, or ask your bank why it was declined.")),
    (("international",), Explanation(
        "The card is not enabled for this kind of payment.",
        "Enable online or international payments with your bank, or use another card.")),
)

_GATEWAY = Explanation(
    "Your bank or wallet had a problem on its side.",
    "Nothing was taken. Try again in a few minutes, or use another payment method.")
_DEFAULT = Explanation(
    "The payment did not go through.",
    "Try again, or use another card, UPI app or bank. If money was taken, it is returned "
    "automatically.")


def explain(error_code: str | None, error_description: str | None) -> Explanation:
    words = (error_description or "").lower()
    for needles, explanation in _RULES:
        if any(needle in words for needle in needles):
            return explanation
    if (error_code or "").upper() in ("GATEWAY_ERROR", "SERVER_ERROR"):
        return _GATEWAY
    return _DEFAULT
