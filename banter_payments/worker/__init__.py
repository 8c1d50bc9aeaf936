"""The worker runtime: background jobs registered by the core and plugins.

``config.add_worker_job(name, run, interval=..., drain=...)`` registers a job; the
``banter-worker INI`` console script runs them (any number of copies), and with
``worker.in_process = true`` (development) the app runs them in a thread of its own.
"""

from pyramid.events import ApplicationCreated

from .jobs import add_worker_job
from .reconcile import run_reconcile
from .runner import start_in_process


def _start_in_process(event: ApplicationCreated) -> None:
    registry = event.app.registry
    if registry.settings["worker.in_process"]:
        start_in_process(registry)


def includeme(config) -> None:
    config.add_directive("add_worker_job", add_worker_job)
    config.add_subscriber(_start_in_process, ApplicationCreated)
    config.include(".inbox")
    interval = config.registry.settings["worker.reconcile_interval_seconds"]
    if interval:
        config.add_worker_job("reconcile", run_reconcile, interval=interval)
