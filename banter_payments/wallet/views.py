"""``GET /wallet``, ``GET /wallet/transactions``, and the host's ``POST /wallet/debits``."""

from __future__ import annotations

from typing import Any

from pyramid.request import Request
from pyramid.view import view_config

from ..catalog.registry import assets
from ..clock import isoformat
from ..errors import NotFound, ValidationFailed
from ..ledger.interfaces import ILedgerService
from ..ledger.models import Entry, Posting
from .directives import entitlement_describers
from .interfaces import IWalletService

HOST_REFERENCE_PREFIX = "host:"


@view_config(route_name="payments.wallet.show", request_method="GET", renderer="json",
             permission="user")
def show_wallet(request: Request) -> dict[str, Any]:
    user_id = _subject(request, request.validated_query["userId"])
    ledger = request.find_service(ILedgerService)
    names = sorted(assets(request.registry))
    entitlements = {
        name: {"active": True, "until": isoformat(grant["expiresAt"]),
               "source": grant["source"], "grantedAt": isoformat(grant["grantedAt"]),
               "expiresAt": isoformat(grant["expiresAt"])}
        for name, grant in request.find_service(IWalletService)
        .active_entitlements(user_id).items()
    }
    for name, describe in entitlement_describers(request.registry).items():
        described = describe(request, user_id, name)
        if not described:
            continue
        shown = entitlements.get(name)
        if shown is None or described.get("active") or not shown["active"]:
            entitlements[name] = {**(shown or {}), **described}
    return {
        "userId": user_id,
        "balances": ledger.balances(user_id, names),
        "entitlements": entitlements,
    }


@view_config(route_name="payments.wallet.transactions", request_method="GET",
             renderer="json", permission="user")
def list_transactions(request: Request) -> dict[str, Any]:
    query = request.validated_query
    user_id = _subject(request, query["userId"])
    asset = query["asset"]
    if asset is not None:
        _check_asset(request, asset)
    ledger = request.find_service(ILedgerService)
    entries, next_cursor = ledger.history(user_id, asset=asset, limit=query["limit"],
                                          cursor=query["cursor"])
    return {"items": [entry_to_json(entry) for entry in entries], "nextCursor": next_cursor}


@view_config(route_name="payments.wallet.debits", request_method="POST", renderer="json",
             permission="service")
def create_debit(request: Request) -> dict[str, Any]:
    """Idempotent by the host's reference: the first call answers 201, a replay 200 with
    the same body; the same reference with another user, asset or amount is a 409."""
    body = request.validated_body
    _check_asset(request, body["asset"])
    ledger = request.find_service(ILedgerService)
    posting = ledger.debit(
        body["userId"], body["asset"], body["amount"],
        HOST_REFERENCE_PREFIX + body["reference"], body["description"], kind="spend",
        # "by" last: the caller's metadata cannot overwrite who made the debit.
        metadata={**(body["metadata"] or {}), "by": request.identity.user_id},
    )
    request.response.status_int = 200 if posting.replayed else 201
    return debit_to_json(posting)


def debit_to_json(posting: Posting) -> dict[str, Any]:
    user_entry = next(entry for entry in posting.entries if entry.amount < 0)
    return {
        "id": str(posting.id),
        "userId": posting.request["owner"],
        "asset": user_entry.asset,
        "amount": -user_entry.amount,
        "reference": posting.reference.removeprefix(HOST_REFERENCE_PREFIX),
        "description": posting.description,
        "balance": user_entry.balance_after,
        "metadata": posting.metadata_,
        "createdAt": isoformat(posting.created_at),
    }


def entry_to_json(entry: Entry) -> dict[str, Any]:
    return {
        "id": str(entry.id),
        "asset": entry.asset,
        "amount": entry.amount,
        "balanceAfter": entry.balance_after,
        "kind": entry.posting.kind,
        "reference": entry.posting.reference,
        "description": entry.shown_description,
        "createdAt": isoformat(entry.created_at),
    }


def _subject(request: Request, user_id: str | None) -> str:
    """Whose wallet: the caller's, or for an admin or a host's service, anyone's."""
    identity = request.identity
    if user_id is None or user_id == identity.user_id:
        return identity.user_id
    if identity.is_admin or identity.is_service:
        return user_id
    # API.md: another user's object answers 404, as if it did not exist.
    raise NotFound("No such wallet.")


def _check_asset(request: Request, asset: str) -> None:
    if asset not in assets(request.registry):
        raise ValidationFailed(details={"asset": f"{asset!r} is not an enabled asset"})
