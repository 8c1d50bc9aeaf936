"""Metrics: Prometheus ``/metrics`` and the ``GET /admin/metrics`` report (docs/metrics.md).

Facts are counted from the database (every process answers the same); timings are
observed per process with prometheus_client (multiprocess mode when
``PROMETHEUS_MULTIPROC_DIR`` is set). ``config.set_outbox_stats`` is the hook an outbox
uses to have its backlog and dead letters measured.
"""


def includeme(config):
    from ..outbox.services import OutboxStats
    from .access import allowed_networks
    from .interfaces import set_outbox_stats
    from .schemas import ExpositionQuery, MetricsQuery

    settings = config.registry.settings
    config.add_directive("set_outbox_stats", set_outbox_stats)
    config.registry["banter_payments.metrics.allow"] = allowed_networks(settings)
    # The core's outbox: its backlog and dead letters, as gauges and for the alert.
    config.set_outbox_stats(OutboxStats())

    config.add_route("payments.metrics.prometheus", "/metrics")
    config.add_api_operation(
        "payments.metrics.prometheus", "GET", tag="operations", query=ExpositionQuery,
        summary="Prometheus exposition (text format); for addresses in metrics.allow or "
                "callers with metrics.bearer_token",
        responses={200: "text/plain; version=0.0.4", 403: "forbidden"},
    )
    config.add_route("payments.metrics.admin", "/admin/metrics")
    config.add_api_operation(
        "payments.metrics.admin", "GET", tag="admin", permission="admin",
        query=MetricsQuery,
        summary="Success rate, revenue and average order value per currency, refunds, "
                "failure reasons and webhook lag percentiles, as totals and per bucket",
        responses={200: "{from, to, bucket, totals, series}", 400: "validation_failed",
                   401: "unauthenticated", 403: "forbidden"},
    )
    if settings["metrics.enabled"]:
        config.add_tween("banter_payments.metrics.tweens.webhook_timing_tween_factory",
                         over="pyramid_tm.tm_tween_factory")
    config.scan(".views")
