"""Every setting the core reads: its default, its environment override, its parser.

Defaults live here and nowhere else. ``includeme`` replaces the raw ini strings in
``registry.settings`` with parsed values, so the rest of the code reads typed settings
(``settings["razorpay.timeout"]`` is a float, ``settings["banter_payments.plugins"]`` a
list). Anything wrong or unsafe stops start-up with a ``ConfigurationError`` that names
the setting.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

from pyramid.exceptions import ConfigurationError
from pyramid.settings import asbool, aslist

DEVELOPMENT_JWT_SECRET = "development-jwt-secret-change-me-0123456789"
SANDBOX_KEY_ID = "rzp_test_sandbox0000001"
SANDBOX_KEY_SECRET = "sandbox-key-secret-0123456789"
SANDBOX_WEBHOOK_SECRET = "sandbox-webhook-secret-0123456789"

# Secrets that ship in this repository; production refuses every one of them.
KNOWN_DEVELOPMENT_SECRETS = frozenset(
    {DEVELOPMENT_JWT_SECRET, SANDBOX_KEY_SECRET, SANDBOX_WEBHOOK_SECRET}
)


def _str(value: Any) -> str:
    return str(value).strip()


def _list(value: Any) -> list[str]:
    if isinstance(value, list | tuple):
        return [str(v).strip() for v in value if str(v).strip()]
    return aslist(str(value).replace(",", " "))


def _bool(value: Any) -> bool:
    return asbool(value)


def _choice(*choices: str) -> Callable[[Any], str]:
    def parse(value: Any) -> str:
        value = _str(value).lower()
        if value not in choices:
            raise ValueError(f"must be one of {', '.join(choices)}; got {value!r}")
        return value

    return parse


def _number(kind: type, minimum: float | None = None) -> Callable[[Any], Any]:
    def parse(value: Any) -> Any:
        number = kind(value)
        if minimum is not None and number < minimum:
            raise ValueError(f"must be at least {minimum}")
        return number

    return parse


_DURATION_UNITS = {"s": 1, "m": 60, "h": 3600, "d": 86400}


def _duration(value: Any) -> int:
    """Seconds, from ``900``, ``900s``, ``15m``, ``1h`` or ``1d``."""
    text = _str(value).lower()
    unit = _DURATION_UNITS.get(text[-1:], None)
    number = int(text[:-1] if unit else text)
    seconds = number * (unit or 1)
    if seconds < 1:
        raise ValueError("must be a positive duration (900, 15m, 1h)")
    return seconds


@dataclass(frozen=True)
class Setting:
    default: Any
    parse: Callable[[Any], Any] = _str
    env: str | None = None
    secret: bool = False


SETTINGS: dict[str, Setting] = {
    # Deployment
    "banter_payments.environment": Setting("development", _choice("development", "production")),
    "banter_payments.route_prefix": Setting("/api/payments"),
    "banter_payments.plugins": Setting([], _list),
    "banter_payments.currency": Setting("INR", lambda v: _str(v).upper()),
    # Currencies a service order may ask for (Razorpay must have them enabled too).
    "banter_payments.currencies": Setting(["INR"], lambda v: [c.upper() for c in _list(v)]),
    "banter_payments.checkout_name": Setting("Banter"),
    "banter_payments.max_body_bytes": Setting(64 * 1024, _number(int, 1024)),
    # Database
    "sqlalchemy.url": Setting("sqlite:///banter.sqlite", env="DATABASE_URL"),
    "sqlalchemy.sqlite_busy_timeout_ms": Setting(10_000, _number(int, 0)),
    "retry.attempts": Setting(3, _number(int, 1)),
    # Auth
    "jwt.secret": Setting(None, env="JWT_SECRET", secret=True),
    "jwt.algorithm": Setting("HS256", _choice("HS256", "HS384", "HS512")),
    "jwt.leeway_seconds": Setting(30, _number(int, 0)),
    # Gateway
    "razorpay.mode": Setting("sandbox", _choice("sandbox", "test", "live")),
    "razorpay.key_id": Setting(None, env="RAZORPAY_KEY_ID"),
    "razorpay.key_secret": Setting(None, env="RAZORPAY_KEY_SECRET", secret=True),
    "razorpay.webhook_secrets": Setting([], _list, env="RAZORPAY_WEBHOOK_SECRET", secret=True),
    "razorpay.timeout": Setting(10.0, _number(float, 0.1)),
    # Where the SDK sends its calls. Empty: Razorpay itself in test/live mode, and the
    # built-in emulator called in-process in sandbox mode. Set it to a standalone
    # sandbox's URL (``banter-sandbox``) to use real HTTP.
    "razorpay.base_url": Setting(None, env="RAZORPAY_BASE_URL"),
    "razorpay.capture": Setting("auto", _choice("auto", "manual")),
    # Sandbox (only read when razorpay.mode = sandbox)
    "sandbox.database_url": Setting(None),
    "sandbox.webhook_url": Setting(None),
    "sandbox.worker": Setting(True, _bool),
    "sandbox.webhook_delay": Setting(0.0, _number(float, 0)),
    "sandbox.webhook_duplicates": Setting(1, _number(int, 1)),
    "sandbox.webhook_shuffle": Setting(False, _bool),
    "sandbox.webhook_drop_rate": Setting(0.0, _number(float, 0)),
    "sandbox.webhook_timeout": Setting(5.0, _number(float, 0.1)),
    # Derived from the route prefix when the app mounts the sandbox.
    "sandbox.webhook_path": Setting(None),
    "sandbox.webhook_retry_base": Setting(1.0, _number(float, 0)),
    "sandbox.webhook_max_attempts": Setting(6, _number(int, 1)),
    "sandbox.webhook_shuffle_window": Setting(1.0, _number(float, 0)),
    "sandbox.refund_status": Setting("processed", _choice("processed", "pending")),
    "sandbox.refund_delay": Setting(1.0, _number(float, 0)),
    "sandbox.random_seed": Setting(None, _number(int, 0)),
    # Orders and reconciliation
    "orders.reconcile_after_seconds": Setting(15 * 60, _number(int, 0)),
    "orders.expire_after_seconds": Setting(24 * 60 * 60, _number(int, 60)),
    # Request hardening (banter_payments.http)
    "banter_payments.https": Setting(False, _bool),
    "cors.allowed_origins": Setting([], _list),
    "cors.max_age_seconds": Setting(600, _number(int, 0)),
    # Idempotency keys (banter_payments.idempotency): kept at least 24 hours
    "idempotency.ttl_seconds": Setting(24 * 60 * 60, _number(int, 24 * 60 * 60)),
    "idempotency.lease_seconds": Setting(120, _number(int, 5)),
    # Rate limits (banter_payments.ratelimit); rules are "route: limit[; limit]" by comma
    "ratelimit.enabled": Setting(True, _bool),
    "ratelimit.storage_url": Setting("memory://", env="RATELIMIT_STORAGE_URL"),
    "ratelimit.strategy": Setting("moving-window", _choice("fixed-window", "moving-window", "sliding-window-counter")),  # noqa: E501
    "ratelimit.rules": Setting("payments.orders.create: 15/hour, payments.verify: 10/15minutes"),  # noqa: E501
    "ratelimit.exempt_roles": Setting(["service"], _list),
    # Refunds (banter_payments.refunds)
    "refunds.require_full_clawback": Setting(False, _bool),
    # Metrics (banter_payments.metrics; docs/metrics.md). /metrics answers a client whose
    # address is in metrics.allow or who sends metrics.bearer_token; in production, with
    # neither set, it answers nobody.
    "metrics.enabled": Setting(True, _bool),
    "metrics.allow": Setting(None, _list),
    "metrics.bearer_token": Setting(None, env="METRICS_BEARER_TOKEN", secret=True),
    # Webhook timings are written in batches, after the delivery's commit.
    "metrics.webhook_timings_batch": Setting(50, _number(int, 1)),
    "metrics.webhook_timings_flush_seconds": Setting(5.0, _number(float, 0)),
    # Alerts (banter_payments.alerts), evaluated by ``banter-alerts INI`` from cron.
    "alerts.success_rate_below": Setting(0.9, _number(float, 0)),
    "alerts.window": Setting(15 * 60, _duration),
    "alerts.min_attempts": Setting(20, _number(int, 1)),
    "alerts.webhook_lag_seconds": Setting(300.0, _number(float, 0)),
    "alerts.min_webhooks": Setting(10, _number(int, 1)),
    "alerts.dead_letters_above": Setting(0, _number(int, 0)),
}


def _environ_value(name: str, setting: Setting, environ: Mapping[str, str]) -> Any:
    if setting.env and environ.get(setting.env):
        return environ[setting.env]
    return None


def parse_settings(raw: Mapping[str, Any], environ: Mapping[str, str] | None = None) -> dict:
    """Return ``raw`` with every known setting parsed, defaulted and validated."""
    environ = os.environ if environ is None else environ
    settings = dict(raw)
    for name, setting in SETTINGS.items():
        value = _environ_value(name, setting, environ)
        if value is None:
            value = raw.get(name)
        if value is None or value == "":
            settings[name] = setting.default
            continue
        try:
            settings[name] = setting.parse(value)
        except (TypeError, ValueError) as exc:
            raise ConfigurationError(f"setting {name}: {exc}") from None
    _fill_sandbox_credentials(settings)
    _check_required(settings)
    _check_production(settings)
    settings.setdefault("tm.manager_hook", "pyramid_tm.explicit_manager")
    settings.setdefault("tm.annotate_user", "false")
    return settings


def _fill_sandbox_credentials(settings: dict) -> None:
    """In sandbox mode every credential has a working development default."""
    if settings["razorpay.mode"] != "sandbox":
        return
    settings["razorpay.key_id"] = settings["razorpay.key_id"] or SANDBOX_KEY_ID
    settings["razorpay.key_secret"] = settings["razorpay.key_secret"] or SANDBOX_KEY_SECRET
    settings["razorpay.webhook_secrets"] = settings["razorpay.webhook_secrets"] or [
        SANDBOX_WEBHOOK_SECRET
    ]
    if settings["banter_payments.environment"] == "development":
        settings["jwt.secret"] = settings["jwt.secret"] or DEVELOPMENT_JWT_SECRET


def _check_required(settings: dict) -> None:
    required = ["jwt.secret", "razorpay.key_id", "razorpay.key_secret"]
    for name in required:
        if not settings[name]:
            env = SETTINGS[name].env
            raise ConfigurationError(
                f"setting {name} is required (set it in the ini file or in ${env})"
            )
    if not settings["razorpay.webhook_secrets"]:
        raise ConfigurationError(
            "setting razorpay.webhook_secrets is required "
            "(set it in the ini file or in $RAZORPAY_WEBHOOK_SECRET)"
        )
    if len(settings["jwt.secret"]) < 32:
        raise ConfigurationError("setting jwt.secret must be at least 32 characters long")
    if settings["sandbox.webhook_drop_rate"] >= 1:
        raise ConfigurationError("setting sandbox.webhook_drop_rate must be below 1")


def _check_production(settings: dict) -> None:
    if settings["banter_payments.environment"] != "production":
        return
    if settings["razorpay.mode"] == "sandbox":
        raise ConfigurationError(
            "setting razorpay.mode = sandbox is not allowed when "
            "banter_payments.environment = production (use test or live)"
        )
    for name, setting in SETTINGS.items():
        if not setting.secret:
            continue
        values = settings[name] if isinstance(settings[name], list) else [settings[name]]
        if any(value in KNOWN_DEVELOPMENT_SECRETS for value in values):
            raise ConfigurationError(
                f"setting {name} holds a development secret; production needs its own "
                f"(set ${setting.env})"
            )
    if settings["sqlalchemy.url"].startswith("sqlite") and not settings.get(
        "banter_payments.allow_sqlite_in_production"
    ):
        raise ConfigurationError(
            "setting sqlalchemy.url points at SQLite; production needs PostgreSQL "
            "(set $DATABASE_URL)"
        )


def includeme(config) -> None:
    config.registry.settings.update(parse_settings(config.registry.settings))
