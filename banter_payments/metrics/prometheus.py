"""The Prometheus exposition: facts counted from the database, timings per process.

Two kinds of series, chosen for what stays correct with several app processes and
workers behind one database:

- **Facts** (orders created, payments by outcome and method, failures, refunds, webhook
  deliveries by outcome, paid order value, the outbox's backlog and dead letters) are
  counted from the rows at scrape time (``FactCollector``). Every process answers the
  same numbers, a restart loses nothing, and a fact is counted once because it is one
  row: a duplicate webhook is one more ``duplicate`` delivery, never a second capture.
- **Timings** (webhook processing time and lag, gateway calls and their latency) happen
  in one process and are observed there with prometheus_client. With several processes,
  start each with ``PROMETHEUS_MULTIPROC_DIR`` set to one shared, emptied directory:
  prometheus_client then keeps the values in files there and ``/metrics`` (in any
  process) sums them with its ``MultiProcessCollector``.
"""

from __future__ import annotations

import os

from prometheus_client import CollectorRegistry, generate_latest
from prometheus_client.core import CounterMetricFamily, GaugeMetricFamily
from prometheus_client.multiprocess import MultiProcessCollector

from ..timings import PROCESS_REGISTRY
from .interfaces import outbox_stats
from .services import fact_counts

# (name, help, labels) of each fact counter, keyed by ``fact_counts``' keys.
FACTS = {
    "orders_created": ("banter_orders_created", "Orders created, by kind.", ["kind"]),
    "payments": ("banter_payments", "Payment attempts, by outcome (status) and method.",
                 ["outcome", "method"]),
    "payment_failures": ("banter_payment_failures",
                         "Failed payments, by Razorpay error code and reason.",
                         ["code", "reason"]),
    "refunds": ("banter_refunds", "Refunds, by status.", ["status"]),
    "webhook_deliveries": ("banter_webhook_deliveries", "Webhook deliveries, by outcome.",
                           ["outcome"]),
    "orders_paid": ("banter_orders_paid", "Paid orders, by currency.", ["currency"]),
    "order_value": ("banter_order_value_minor",
                    "Sum of paid orders' amounts in minor units, by currency.",
                    ["currency"]),
}


class FactCollector:
    """Counts the facts from the database when scraped."""

    def __init__(self, session_factory, registry) -> None:
        self.session_factory = session_factory
        self.registry = registry

    def collect(self):
        session = self.session_factory()
        try:
            counts = fact_counts(session)
            stats = outbox_stats(self.registry)
            outbox = (stats.backlog(session), stats.dead(session)) if stats else None
        finally:
            session.rollback()
            session.close()
        for key, (name, help_text, labels) in FACTS.items():
            family = CounterMetricFamily(name, help_text, labels=labels)
            for values, count in counts[key]:
                family.add_metric(list(values), count)
            yield family
        if outbox is not None:
            yield GaugeMetricFamily("banter_outbox_backlog", "Outbox messages not yet "
                                    "delivered.", value=outbox[0])
            yield GaugeMetricFamily("banter_outbox_dead", "Outbox messages that exhausted "
                                    "their attempts.", value=outbox[1])


def exposition(session_factory, registry) -> bytes:
    """The text ``/metrics`` answers: the facts plus this process's (or, in
    multiprocess mode, every process's) timings."""
    scrape = CollectorRegistry(auto_describe=False)
    scrape.register(FactCollector(session_factory, registry))
    if os.environ.get("PROMETHEUS_MULTIPROC_DIR"):
        MultiProcessCollector(scrape)
        return generate_latest(scrape)
    return generate_latest(scrape) + generate_latest(PROCESS_REGISTRY)
