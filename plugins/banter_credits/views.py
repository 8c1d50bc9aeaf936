"""``GET /credits/summary``: what a user has had, spent and paid in credits.

Lifetime credits and credits spent are the credits account's running totals (kept with
its balance by the ledger, so this is a read, not a scan of history). Money spent is the
sum over the user's paid credit-plan orders, net of refunds.
"""

from __future__ import annotations

from typing import Any

from pyramid.request import Request
from pyramid.view import view_config

from banter_payments.errors import NotFound
from banter_payments.ledger.interfaces import ILedgerService
from banter_payments.orders.interfaces import IOrderQueries

SKU_PREFIX = "credits."


@view_config(route_name="payments.credits.summary", request_method="GET", renderer="json",
             permission="user")
def credits_summary(request: Request) -> dict[str, Any]:
    identity = request.identity
    user_id = request.validated_query["userId"] or identity.user_id
    if user_id != identity.user_id and not (identity.is_admin or identity.is_service):
        raise NotFound("No such wallet.")
    ledger = request.find_service(ILedgerService)
    totals = ledger.totals(user_id, "credits")
    rows = request.find_service(IOrderQueries).paid_totals(user_id, SKU_PREFIX)
    # Credits taken back by refunds left the balance, but were not spent.
    refunded = ledger.clawed_back(user_id, "credits")
    return {
        "userId": user_id,
        "balance": totals["balance"],
        "lifetimeCredits": totals["totalIn"],
        "creditsSpent": totals["totalOut"] - int(refunded),
        "creditsRefunded": int(refunded),
        "purchases": sum(count for _currency, count, _amount in rows),
        "totalSpent": [{"amount": int(amount), "currency": currency}
                       for currency, _count, amount in rows],
    }
