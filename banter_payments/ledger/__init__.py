"""The wallet ledger: double-entry postings, cached balances, and the service over them.

``request.find_service(ILedgerService)`` is a ``LedgerService`` on the request's session;
scripts and jobs build ``LedgerService(session)`` themselves.
"""

from .interfaces import ILedgerService, LedgerConflict
from .services import LedgerService, ledger_service_factory


def includeme(config) -> None:
    config.register_service_factory(ledger_service_factory, ILedgerService)


__all__ = ["ILedgerService", "LedgerConflict", "LedgerService", "includeme"]
