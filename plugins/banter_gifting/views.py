"""``POST /gifts``: the caller sends coins to another user."""

from __future__ import annotations

from typing import Any

from pyramid.request import Request
from pyramid.view import view_config

from banter_payments.clock import isoformat
from banter_payments.errors import Forbidden, NotFound, ValidationFailed

from .interfaces import IGiftService
from .models import Gift
from .policy import gift_rules
from .services import LIMITS_KEY

__all__ = ["LIMITS_KEY", "create_gift", "gift_to_json"]


@view_config(route_name="payments.gifts.create", request_method="POST", renderer="json",
             permission="user")
def create_gift(request: Request) -> dict[str, Any]:
    body = request.validated_body
    sender_id, recipient_id = request.identity.user_id, body["to"]
    if recipient_id == sender_id:
        raise ValidationFailed(details={"to": "You cannot send a gift to yourself."})
    rules = gift_rules(request.registry)
    if not rules.user_exists(request, recipient_id):
        raise NotFound("No such user.")
    reason = rules.refusal(request, sender_id, recipient_id)
    if reason is not None:
        raise Forbidden(reason)
    gift, balance = request.find_service(IGiftService).send(
        sender_id, recipient_id, body["coins"], body["note"])
    request.response.status_int = 201
    return gift_to_json(gift, balance)


def gift_to_json(gift: Gift, sender_balance: int | None = None) -> dict[str, Any]:
    result = {
        "id": gift.id,
        "from": gift.sender_id,
        "to": gift.recipient_id,
        "coins": gift.coins,
        "note": gift.note,
        "reference": f"gift:{gift.id}",
        "createdAt": isoformat(gift.created_at),
    }
    if sender_balance is not None:
        result["balance"] = sender_balance
    return result
