"""Business code outside a request: a job is a registry, a session and its own
transaction manager, and nothing else.

Services are registered with ``config.register_service_factory(factory, IFoo)``; a
factory is called as ``factory(context, source)``, where ``source`` is whatever the
service is being built for and has ``registry``, ``dbsession``, ``tm`` and
``find_service``: the request (``request.find_service(IFoo)``) or a ``Job``
(``job.find_service(IFoo)``). So a view, a console script and a background worker build
the very same service, and no job ever needs a fake request.

A job's transaction manager is explicit and idle: the job opens one transaction per unit
of work (``with job.tm:``), and its event sink announces each transaction's events after
that transaction commits, exactly as for a request.
"""

from __future__ import annotations

from typing import Any

import transaction
from pyramid_services import find_service_factory
from sqlalchemy.orm import Session
from transaction.interfaces import NoTransaction

from .db import get_tm_session


class Job:
    """What a background job runs on. Use it as a context manager (it closes its session).

    ``host_url`` is the app's own address, which the in-process sandbox gateway needs to
    send its webhooks back to the app that made the call.
    """

    def __init__(self, registry: Any, *, host_url: str = "http://localhost"):
        self.registry = registry
        self.host_url = host_url
        self.tm = transaction.TransactionManager(explicit=True)
        # The writer: on SQLite a job's transactions write (BEGIN IMMEDIATE).
        writer, _ = registry["banter_payments.session_factories"]
        self.dbsession: Session = get_tm_session(writer, self.tm)
        self._services: dict[tuple, Any] = {}

    def find_service(self, iface: Any, context: Any = None, name: str = "") -> Any:
        """The service registered for ``iface``, built for this job once."""
        key = (iface, context, name)
        if key not in self._services:
            factory = find_service_factory(self, iface, context=context, name=name)
            self._services[key] = factory(context, self)
        return self._services[key]

    def close(self) -> None:
        try:
            self.tm.get()
        except NoTransaction:
            pass
        else:  # left open by a job that raised
            self.tm.abort()
        self.dbsession.close()

    def __enter__(self) -> Job:
        return self

    def __exit__(self, *exc_info) -> None:
        self.close()
