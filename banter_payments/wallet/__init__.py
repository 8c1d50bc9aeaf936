"""The wallet's REST face: balances and entitlements, history, and the host's debits.

Balances and history come from the ledger (``banter_payments.ledger``); entitlements
(``IWalletService``: ``request.find_service(IWalletService)`` or a job's) live here.
"""

from .directives import add_entitlement_describer
from .interfaces import IWalletService
from .schemas import DebitBody, TransactionsQuery, WalletQuery
from .services import wallet_service_factory


def includeme(config) -> None:
    config.register_service_factory(wallet_service_factory, IWalletService)
    config.add_directive("add_entitlement_describer", add_entitlement_describer)
    config.add_route("payments.wallet.show", "/wallet")
    config.add_route("payments.wallet.transactions", "/wallet/transactions")
    config.add_route("payments.wallet.debits", "/wallet/debits")
    config.add_api_operation(
        "payments.wallet.show", "GET", summary="The caller's balances and entitlements",
        tag="wallet", permission="user", query=WalletQuery,
        responses={200: "{userId, balances: {asset: n} for every enabled asset, "
                        "entitlements: {name: {active, until, source, grantedAt, expiresAt} "
                        "and what the plugin that sells the right adds (plan)}}",
                   401: "No or bad token", 404: "Another user's wallet, not as admin"},
    )
    config.add_api_operation(
        "payments.wallet.transactions", "GET", summary="The caller's ledger entries",
        tag="wallet", permission="user", query=TransactionsQuery,
        responses={200: "{items: [{id, asset, amount, balanceAfter, kind, reference, "
                        "description, createdAt}], nextCursor}, newest first",
                   400: "Bad query, unknown asset or malformed cursor",
                   401: "No or bad token", 404: "Another user's history, not as admin"},
    )
    config.add_api_operation(
        "payments.wallet.debits", "POST",
        summary="A host app takes coins or credits from a user",
        tag="wallet", permission="service", body=DebitBody,
        responses={201: "The debit: {id, userId, asset, amount, reference, description, "
                        "balance, metadata, createdAt}",
                   200: "The same reference again: the first debit, unchanged",
                   400: "Bad body or unknown asset", 403: "Not a service",
                   409: "The reference was used for another user, asset or amount",
                   422: "insufficient_funds: the balance is short"},
    )
    config.scan(".views")

