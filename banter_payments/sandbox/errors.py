"""Razorpay's error envelope, raised anywhere in the emulator and rendered by one view.

The SDK turns the envelope's ``code`` into an exception class (``BAD_REQUEST_ERROR`` ->
``BadRequestError``), so the code and the HTTP status are what the app's gateway layer
reacts to; the description is what a developer reads.
"""

from __future__ import annotations

from typing import Any

BAD_REQUEST_ERROR = "BAD_REQUEST_ERROR"
SERVER_ERROR = "SERVER_ERROR"
GATEWAY_ERROR = "GATEWAY_ERROR"

ID_DOES_NOT_EXIST = "The id provided does not exist"
INVALID_CREDENTIALS = "The api key/secret provided is invalid"
URL_NOT_FOUND = "The requested URL was not found on the server."


class RazorpayError(Exception):
    """An error answered in Razorpay's envelope."""

    def __init__(
        self,
        description: str,
        *,
        field: str | None = None,
        status: int = 400,
        code: str = BAD_REQUEST_ERROR,
        source: str = "business",
        step: str = "payment_initiation",
        reason: str = "input_validation_failed",
        metadata: dict[str, Any] | None = None,
    ) -> None:
        super().__init__(description)
        self.description = description
        self.field = field
        self.status = status
        self.code = code
        self.source = source
        self.step = step
        self.reason = reason
        self.metadata = metadata or {}

    def envelope(self) -> dict[str, Any]:
        return {
            "error": {
                "code": self.code,
                "description": self.description,
                "field": self.field,
                "source": self.source,
                "step": self.step,
                "reason": self.reason,
                "metadata": self.metadata,
            }
        }


def not_found() -> RazorpayError:
    return RazorpayError(ID_DOES_NOT_EXIST)


def unauthorized() -> RazorpayError:
    return RazorpayError(INVALID_CREDENTIALS, status=401, source="NA", step="NA", reason="NA")
