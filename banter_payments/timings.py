"""The timings each process observes itself (prometheus_client metrics).

Kept apart from the database-backed facts so that the gateway can import them without
importing the models. In multiprocess mode (``PROMETHEUS_MULTIPROC_DIR`` set before the
process starts) prometheus_client stores these values in that directory.
"""

from __future__ import annotations

from prometheus_client import CollectorRegistry, Counter, Histogram

# The timings of this process. A registry of our own, so that the app never depends on
# what else registered in prometheus_client's global one.
PROCESS_REGISTRY = CollectorRegistry(auto_describe=True)

LATENCY_BUCKETS = (0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0)
LAG_BUCKETS = (0.5, 1.0, 2.0, 5.0, 10.0, 30.0, 60.0, 120.0, 300.0, 600.0, 1800.0, 3600.0,
               21600.0, 86400.0)

WEBHOOK_PROCESSING = Histogram(
    "banter_webhook_processing_seconds", "Time to answer a webhook delivery, by outcome.",
    ["outcome"], buckets=LATENCY_BUCKETS, registry=PROCESS_REGISTRY)
WEBHOOK_LAG = Histogram(
    "banter_webhook_lag_seconds",
    "Receipt time minus the event's created_at, per signed delivery.",
    buckets=LAG_BUCKETS, registry=PROCESS_REGISTRY)
GATEWAY_CALLS = Counter(
    "banter_gateway_calls", "Calls to Razorpay, by endpoint and outcome.",
    ["endpoint", "outcome"], registry=PROCESS_REGISTRY)
GATEWAY_LATENCY = Histogram(
    "banter_gateway_call_seconds", "Latency of calls to Razorpay, by endpoint.",
    ["endpoint"], buckets=LATENCY_BUCKETS, registry=PROCESS_REGISTRY)
