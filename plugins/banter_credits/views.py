"""``GET /credits/summary``: what a user has had, spent and paid in credits.

Lifetime credits and credits spent are the credits account's running totals (kept with
its balance by the ledger, so this is a read, not a scan of history). Money spent is the
sum over the user's paid credit-plan orders, net of refunds.
"""

from __future__ import annotations

from typing import Any

from pyramid.request import Request
from pyramid.view import view_config
from sqlalchemy import func, select

from banter_payments.errors import NotFound
from banter_payments.ledger.interfaces import ILedgerService
from banter_payments.ledger.models import USER, Account, Entry, Posting
from banter_payments.orders.models import Order

SKU_PREFIX = "credits."


@view_config(route_name="payments.credits.summary", request_method="GET", renderer="json",
             permission="user")
def credits_summary(request: Request) -> dict[str, Any]:
    identity = request.identity
    user_id = request.validated_query["userId"] or identity.user_id
    if user_id != identity.user_id and not (identity.is_admin or identity.is_service):
        raise NotFound("No such wallet.")
    totals = request.find_service(ILedgerService).totals(user_id, "credits")
    rows = request.dbsession.execute(
        select(Order.currency, func.count(), func.sum(Order.amount - Order.refunded_amount))
        .where(Order.user_id == user_id, Order.status == "paid",
               Order.sku.startswith(SKU_PREFIX, autoescape=True))
        .group_by(Order.currency).order_by(Order.currency)
    ).all()
    # Credits taken back by refunds left the balance, but were not spent.
    refunded = request.dbsession.scalar(
        select(func.coalesce(func.sum(-Entry.amount), 0))
        .join(Posting, Posting.id == Entry.posting_id)
        .join(Account, Account.id == Entry.account_id)
        .where(Account.owner_kind == USER, Account.owner_id == user_id,
               Account.asset == "credits", Posting.kind == "clawback", Entry.amount < 0)
    )
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
