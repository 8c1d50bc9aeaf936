"""The wallet ledger: double-entry postings, cached balances, and the service over them.

``find_service(ILedgerService)`` (on a request or a ``Job``) is a ``LedgerService`` on
that session; scripts without a registry build ``LedgerService(session)`` themselves.
"""

from .interfaces import ILedgerService
from .services import ledger_service_factory


def includeme(config) -> None:
    config.register_service_factory(ledger_service_factory, ILedgerService)
