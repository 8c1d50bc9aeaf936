"""The emulator's settings: which database, which keys, and the webhook knobs.

The emulator is built both inside the app (from the app's already parsed settings) and
alone by ``banter-sandbox`` (from command-line values), so it reads every setting
defensively: typed values pass through, raw ini strings are parsed with the core's own
parsers, and missing ones get the defaults of ``banter_payments.settings``.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import PurePath
from typing import Any

from pyramid.exceptions import ConfigurationError
from pyramid.settings import asbool
from sqlalchemy.engine import make_url

from banter_payments.settings import (
    SANDBOX_KEY_ID,
    SANDBOX_KEY_SECRET,
    SANDBOX_WEBHOOK_SECRET,
    SETTINGS,
)

# Registry keys: the emulator app in the main app's registry, the service in the
# emulator's own registry.
EMULATOR_KEY = "banter_payments.sandbox.emulator"
SERVICE_KEY = "banter_payments.sandbox.service"
FAULT_SETTINGS = (
    "sandbox.fault_error_rate",
    "sandbox.fault_statuses",
    "sandbox.fault_timeout_rate",
    "sandbox.fault_timeout_seconds",
    "sandbox.fault_timeout_applied",
    "sandbox.fault_latency",
    "sandbox.fault_endpoints",
)
# Set by the app that mounts the emulator: its own URL, which webhooks go back to.
APP_URL_ENVIRON_KEY = "banter_payments.sandbox.app_url"


def _read(settings: Mapping[str, Any], name: str) -> Any:
    """One setting, parsed, or its default when missing or empty."""
    default, parse = SETTINGS[name].default, SETTINGS[name].parse
    value = settings.get(name)
    if value is None or value == "" or value == []:
        return default
    try:
        return parse(value)
    except (TypeError, ValueError) as exc:
        raise ConfigurationError(f"setting {name}: {exc}") from None


def sandbox_database_url(settings: Mapping[str, Any]) -> str:
    """The database the emulator keeps its state in.

    ``sandbox.database_url`` when set. Otherwise, when the app runs on a SQLite file, a
    sibling file (``banter.sqlite`` -> ``banter-sandbox.sqlite``): SQLite has one write
    lock per file, and the app's request transaction must never make the emulator wait
    (the app may be waiting on the emulator at that moment). Otherwise the app's own
    database, whose row locks do not get in each other's way.
    """
    explicit = settings.get("sandbox.database_url")
    if explicit:
        return str(explicit).strip()
    app_url = str(settings.get("sqlalchemy.url") or SETTINGS["sqlalchemy.url"].default).strip()
    url = make_url(app_url)
    if url.get_backend_name() != "sqlite" or url.database in (None, "", ":memory:"):
        return app_url
    path = PurePath(url.database)
    sibling = path.with_name(f"{path.stem}-sandbox{path.suffix}")
    return url.set(database=str(sibling)).render_as_string(hide_password=False)


@dataclass(frozen=True)
class SandboxConfig:
    """Everything the emulator reads from settings, parsed once."""

    database_url: str
    key_id: str
    key_secret: str
    webhook_secret: str
    webhook_url: str | None
    webhook_path: str
    worker: bool
    webhook_delay: float
    webhook_duplicates: int
    webhook_shuffle: bool
    webhook_shuffle_window: float
    webhook_drop_rate: float
    webhook_timeout: float
    webhook_retry_base: float
    webhook_max_attempts: int
    refund_status: str
    refund_delay: float
    capture_delay: float
    random_seed: int | None
    sqlite_busy_timeout_ms: int
    # The ``sandbox.fault_*`` settings, parsed; ``faults.plan_from_settings`` reads them.
    fault_settings: dict[str, Any]

    @classmethod
    def from_settings(cls, settings: Mapping[str, Any]) -> SandboxConfig:
        secrets = _read(settings, "razorpay.webhook_secrets") or [SANDBOX_WEBHOOK_SECRET]
        drop_rate = _read(settings, "sandbox.webhook_drop_rate")
        if drop_rate >= 1:
            raise ConfigurationError("setting sandbox.webhook_drop_rate must be below 1")
        webhook_path = _read(settings, "sandbox.webhook_path") or "/api/payments/webhooks/razorpay"
        if not webhook_path.startswith("/"):
            raise ConfigurationError("setting sandbox.webhook_path must start with /")
        return cls(
            database_url=sandbox_database_url(settings),
            key_id=_read(settings, "razorpay.key_id") or SANDBOX_KEY_ID,
            key_secret=_read(settings, "razorpay.key_secret") or SANDBOX_KEY_SECRET,
            # Razorpay signs with one secret; the app may accept several during rotation.
            webhook_secret=secrets[0],
            webhook_url=_read(settings, "sandbox.webhook_url"),
            webhook_path=webhook_path,
            worker=asbool(_read(settings, "sandbox.worker")),
            webhook_delay=_read(settings, "sandbox.webhook_delay"),
            webhook_duplicates=_read(settings, "sandbox.webhook_duplicates"),
            webhook_shuffle=asbool(_read(settings, "sandbox.webhook_shuffle")),
            webhook_shuffle_window=_read(settings, "sandbox.webhook_shuffle_window"),
            webhook_drop_rate=drop_rate,
            webhook_timeout=_read(settings, "sandbox.webhook_timeout"),
            webhook_retry_base=_read(settings, "sandbox.webhook_retry_base"),
            webhook_max_attempts=_read(settings, "sandbox.webhook_max_attempts"),
            refund_status=_read(settings, "sandbox.refund_status"),
            refund_delay=_read(settings, "sandbox.refund_delay"),
            capture_delay=_read(settings, "sandbox.capture_delay"),
            random_seed=_read(settings, "sandbox.random_seed"),
            sqlite_busy_timeout_ms=_read(settings, "sqlalchemy.sqlite_busy_timeout_ms"),
            fault_settings={name: _read(settings, name) for name in FAULT_SETTINGS},
        )
