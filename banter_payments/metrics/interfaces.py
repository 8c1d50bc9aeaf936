"""The hook an outbox plugs into so that its backlog and dead letters are measured.

The metrics do not import the outbox: the outbox registers an object providing
``IOutboxStats`` with ``config.set_outbox_stats(stats)``. Without one, the outbox gauges
are simply absent from ``/metrics`` and the dead-letter alert has nothing to evaluate.
"""

from __future__ import annotations

from sqlalchemy.orm import Session
from zope.interface import Interface


class IOutboxStats(Interface):
    def backlog(session: Session) -> int:
        """Messages written and not yet delivered (nor dead)."""

    def dead(session: Session) -> int:
        """Messages that exhausted their attempts and wait for an operator."""


def set_outbox_stats(config, stats) -> None:
    """``config.set_outbox_stats(stats)``: one outbox per app (a second conflicts)."""

    def register():
        config.registry.registerUtility(stats, IOutboxStats)

    config.action("banter_payments.metrics.outbox_stats", register)


def outbox_stats(registry):
    """The registered ``IOutboxStats``, or None when there is no outbox."""
    return registry.queryUtility(IOutboxStats)
