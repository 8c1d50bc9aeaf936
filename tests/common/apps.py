"""Built apps, reused across tests with the same settings.

Building the app (Pyramid's configuration, the sandbox's emulator) costs about 0.3 s,
which over a thousand tests was most of a pass. The rows a test wrote are emptied after
it (``TableCleaner``); what an app keeps in memory between requests is reset here before
each reuse, so a reused app answers like a new one.
"""

from __future__ import annotations

from collections import OrderedDict
from collections.abc import Callable, Mapping


class AppCache:
    """The last ``size`` apps built, by their settings. An app holds its database pools
    (its own and its sandbox's) while it is kept, so only a few are: one evicted has its
    workers stopped and its pools closed, as a server's would be at shutdown, and the
    connections a run holds stay well under a server's limit (MariaDB's default is 151
    for both pytest workers)."""

    def __init__(self, reuse: bool = True, size: int = 4) -> None:
        self.reuse = reuse
        self.size = size
        self._apps: OrderedDict[tuple, object] = OrderedDict()

    def __call__(self, settings: Mapping[str, object]):
        key = _key(settings) if self.reuse else None
        if key is None:
            return _build(settings)
        app = self._apps.get(key)
        if app is None:
            app = self._apps[key] = _build(settings)
            while len(self._apps) > self.size:
                _, evicted = self._apps.popitem(last=False)
                release(evicted)
        else:
            self._apps.move_to_end(key)
            reset(app.registry)
        return app

    def close(self) -> None:
        """Release every kept app (before the run drops its database)."""
        while self._apps:
            _, app = self._apps.popitem()
            release(app)


def release(app) -> None:
    """Stop what runs on ``app``'s behalf and close its pools; its buffered webhook
    timings are forgotten (written at exit, they would go to a dropped database)."""
    from banter_payments.sandbox.config import EMULATOR_KEY
    from banter_payments.sandbox.emulator import emulator_service
    from banter_payments.worker.runner import stop_in_process

    registry = app.registry
    stop_in_process(registry=registry)
    _reset_webhook_timings(registry)
    engine = registry.get("banter_payments.engine")
    if engine is not None:
        engine.dispose()
    emulator = registry.get(EMULATOR_KEY)
    if emulator is not None:
        emulator_service(emulator).engine.dispose()


def _build(settings):
    from banter_payments import main

    return main({}, **settings)


def _key(settings: Mapping[str, object]) -> tuple | None:
    try:
        key = tuple(sorted(settings.items()))
        hash(key)
    except TypeError:
        return None
    return key


def _reset_rate_limits(registry) -> None:
    from limits.storage import MemoryStorage

    from banter_payments.ratelimit.services import IRateLimiter

    limiter = registry.queryUtility(IRateLimiter)
    if limiter is not None and isinstance(limiter.storage, MemoryStorage):
        limiter.storage.reset()


def _reset_webhook_timings(registry) -> None:
    buffer = registry.get("banter_payments.metrics.timings")
    if buffer is not None:
        buffer.discard()


def _reset_sandbox(registry) -> None:
    from banter_payments.sandbox.config import EMULATOR_KEY
    from banter_payments.sandbox.emulator import emulator_service

    emulator = registry.get(EMULATOR_KEY)
    if emulator is None:
        return
    service = emulator_service(emulator)
    service.random.reseed(service.config.random_seed)
    service.faults.reset()


RESETTERS: list[Callable[[object], None]] = [
    _reset_rate_limits, _reset_webhook_timings, _reset_sandbox,
]


def reset(registry) -> None:
    for resetter in RESETTERS:
        resetter(registry)
