"""Every setting the core reads: its default, its environment override, its parser.

Defaults live here and nowhere else. ``includeme`` replaces the raw ini strings in
``registry.settings`` with parsed values, so the rest of the code reads typed settings
(``settings["razorpay.timeout"]`` is a float, ``settings["banter_payments.plugins"]`` a
list). Anything wrong or unsafe stops start-up with a ``ConfigurationError`` that names
the setting.

Plugins declare their own settings the same way: a table of ``Setting`` rows, using the
parsers below, passed to ``config.declare_settings`` (registered here), which reads them
by the same rules (environment, then ini, then default) when the plugin is included.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any

from pyramid.exceptions import ConfigurationError
from pyramid.settings import aslist

DEVELOPMENT_JWT_SECRET = "development-jwt-secret-change-me-0123456789"
SANDBOX_KEY_ID = "rzp_test_sandbox0000001"
SANDBOX_KEY_SECRET = "sandbox-key-secret-0123456789"
SANDBOX_WEBHOOK_SECRET = "sandbox-webhook-secret-0123456789"

# Secrets that ship in this repository; production refuses every one of them.
KNOWN_DEVELOPMENT_SECRETS = frozenset(
    {DEVELOPMENT_JWT_SECRET, SANDBOX_KEY_SECRET, SANDBOX_WEBHOOK_SECRET}
)


# Parsers: each takes the raw value (an ini string, an environment variable, or a
# Python value a host app passed) and returns the typed value, or raises ValueError
# saying what is wrong. Plugins use the same ones for their own settings.


def text(value: Any) -> str:
    return str(value).strip()


def text_list(value: Any) -> list[str]:
    """Words separated by commas, spaces or new lines."""
    if isinstance(value, list | tuple):
        return [str(v).strip() for v in value if str(v).strip()]
    return aslist(str(value).replace(",", " "))


def lines(value: Any) -> list[str]:
    """One entry per non-empty line (an entry may contain spaces)."""
    if isinstance(value, list | tuple):
        return [str(v).strip() for v in value if str(v).strip()]
    return [line.strip() for line in str(value).splitlines() if line.strip()]


_TRUE = frozenset({"true", "yes", "on", "1"})
_FALSE = frozenset({"false", "no", "off", "0"})


def boolean(value: Any) -> bool:
    """true/yes/on/1 or false/no/off/0; anything else is a mistake, not False."""
    if isinstance(value, bool):
        return value
    word = text(value).lower()
    if word in _TRUE | _FALSE:
        return word in _TRUE
    raise ValueError(f"must be true or false; got {text(value)!r}")


def choice(*choices: str) -> Callable[[Any], str]:
    """One of ``choices``, matched without regard to case, returned as spelled there."""
    canonical = {c.lower(): c for c in choices}

    def parse(value: Any) -> str:
        found = canonical.get(text(value).lower())
        if found is None:
            raise ValueError(f"must be one of {', '.join(choices)}; got {text(value)!r}")
        return found

    return parse


def _bounded(kind: type, what: str, minimum: float | None,
             maximum: float | None) -> Callable[[Any], Any]:
    def parse(value: Any) -> Any:
        if isinstance(value, bool):
            raise ValueError(f"must be {what}; got {value!r}")
        try:
            number = kind(text(value) if isinstance(value, str) else value)
        except (TypeError, ValueError):
            raise ValueError(f"must be {what}; got {value!r}") from None
        if minimum is not None and number < minimum:
            raise ValueError(f"must be at least {minimum}; got {value!r}")
        if maximum is not None and number > maximum:
            raise ValueError(f"must be at most {maximum}; got {value!r}")
        return number

    return parse


def integer(minimum: int | None = None, maximum: int | None = None) -> Callable[[Any], int]:
    return _bounded(int, "a whole number", minimum, maximum)


def number(minimum: float | None = None, maximum: float | None = None,
           ) -> Callable[[Any], float]:
    return _bounded(float, "a number", minimum, maximum)


def records(*fields: tuple[str, Callable[[Any], Any]],
            flags: tuple[str, ...] = ()) -> Callable[[Any], list[dict[str, Any]]]:
    """One record a line, fields separated by ``|``, then optional flag words::

        id | Name | coins | price | bonus [| popular] [| best_value]

    gives ``[{"id": ..., "name": ..., "coins": 500, ..., "popular": True}]``: each field
    parsed by its parser, each flag ``True`` when present and ``False`` when not.
    """
    names = [name for name, _parse in fields]
    shape = " | ".join(names) + "".join(f" [| {flag}]" for flag in flags)

    def parse(value: Any) -> list[dict[str, Any]]:
        if isinstance(value, list | tuple):  # records a host app passed as Python values
            if not all(isinstance(record, Mapping) for record in value):
                raise ValueError(f"must be lines of '{shape}' or a list of mappings")
            return [dict(record) for record in value]
        parsed = []
        for number_, line in enumerate(str(value).strip().splitlines(), start=1):
            if not line.strip():
                continue
            parts = [part.strip() for part in line.split("|")]
            if len(parts) < len(fields):
                raise ValueError(f"line {number_}: expected '{shape}', got {line.strip()!r}")
            given = [part for part in parts[len(fields):] if part]
            unknown = set(given) - set(flags)
            if unknown:
                known = ", ".join(flags) or "none"
                raise ValueError(f"line {number_}: unknown flag(s) "
                                 f"{', '.join(sorted(unknown))} (known: {known})")
            record: dict[str, Any] = {}
            for (name, parse_field), part in zip(fields, parts, strict=False):
                try:
                    record[name] = parse_field(part)
                except ValueError as exc:
                    raise ValueError(f"line {number_}, {name}: {exc}") from None
            record.update({flag: flag in given for flag in flags})
            parsed.append(record)
        return parsed

    return parse


_DURATION_UNITS = {"s": 1, "m": 60, "h": 3600, "d": 86400}


def duration(value: Any) -> int:
    """Seconds, from ``900``, ``900s``, ``15m``, ``1h`` or ``1d``."""
    word = text(value).lower()
    unit = _DURATION_UNITS.get(word[-1:], None)
    count = int(word[:-1] if unit else word)
    seconds = count * (unit or 1)
    if seconds < 1:
        raise ValueError("must be a positive duration (900, 15m, 1h)")
    return seconds


@dataclass(frozen=True)
class Setting:
    """One setting: its default (already typed), its parser, and where else it may come
    from. ``env`` names an environment variable that wins over the ini (for secrets and
    URLs that differ per deployment); ``secret`` values are refused in production when
    they are one of the development secrets of this repository; ``doc`` says what the
    setting means, for whoever reads the table."""

    default: Any
    parse: Callable[[Any], Any] = text
    env: str | None = None
    secret: bool = False
    doc: str = ""


SETTINGS: dict[str, Setting] = {
    # Deployment
    "banter_payments.environment": Setting("development", choice("development", "production")),
    "banter_payments.route_prefix": Setting("/api/payments"),
    "banter_payments.plugins": Setting([], text_list),
    "banter_payments.currency": Setting("INR", lambda v: text(v).upper()),
    # Currencies a service order may ask for (Razorpay must have them enabled too).
    "banter_payments.currencies": Setting(["INR"], lambda v: [c.upper() for c in text_list(v)]),
    "banter_payments.checkout_name": Setting("Banter"),
    "banter_payments.max_body_bytes": Setting(64 * 1024, integer(1024)),
    # Database
    "sqlalchemy.url": Setting("sqlite:///banter.sqlite", env="DATABASE_URL"),
    "sqlalchemy.sqlite_busy_timeout_ms": Setting(10_000, integer(0)),
    "retry.attempts": Setting(3, integer(1)),
    # The app's connection pool (docs/operations.md: connections per process)
    "sqlalchemy.pool_size": Setting(5, integer(1)),
    "sqlalchemy.max_overflow": Setting(10, integer(0)),
    "sqlalchemy.pool_timeout": Setting(30.0, number(0.1)),
    # Auth
    "jwt.secret": Setting(None, env="JWT_SECRET", secret=True),
    "jwt.algorithm": Setting("HS256", choice("HS256", "HS384", "HS512")),
    "jwt.leeway_seconds": Setting(30, integer(0)),
    # Gateway
    "razorpay.mode": Setting("sandbox", choice("sandbox", "test", "live")),
    "razorpay.key_id": Setting(None, env="RAZORPAY_KEY_ID"),
    "razorpay.key_secret": Setting(None, env="RAZORPAY_KEY_SECRET", secret=True),
    "razorpay.webhook_secrets": Setting([], text_list, env="RAZORPAY_WEBHOOK_SECRET", secret=True),
    "razorpay.timeout": Setting(10.0, number(0.1)),
    # Where the SDK sends its calls. Empty: Razorpay itself in test/live mode, and the
    # built-in emulator called in-process in sandbox mode. Set it to a standalone
    # sandbox's URL (``banter-sandbox``) to use real HTTP.
    "razorpay.base_url": Setting(None, env="RAZORPAY_BASE_URL"),
    "razorpay.capture": Setting("auto", choice("auto", "manual")),
    # Sandbox (only read when razorpay.mode = sandbox)
    "sandbox.database_url": Setting(None),
    "sandbox.webhook_url": Setting(None),
    "sandbox.worker": Setting(True, boolean),
    "sandbox.webhook_delay": Setting(0.0, number(0)),
    "sandbox.webhook_duplicates": Setting(1, integer(1)),
    "sandbox.webhook_shuffle": Setting(False, boolean),
    "sandbox.webhook_drop_rate": Setting(0.0, number(0)),
    "sandbox.webhook_timeout": Setting(5.0, number(0.1)),
    # Derived from the route prefix when the app mounts the sandbox.
    "sandbox.webhook_path": Setting(None),
    "sandbox.webhook_retry_base": Setting(1.0, number(0)),
    "sandbox.webhook_max_attempts": Setting(6, integer(1)),
    "sandbox.webhook_shuffle_window": Setting(1.0, number(0)),
    "sandbox.refund_status": Setting("processed", choice("processed", "pending")),
    "sandbox.refund_delay": Setting(1.0, number(0)),
    # Seconds between authorization and Razorpay's automatic capture (0: at once).
    "sandbox.capture_delay": Setting(0.0, number(0)),
    "sandbox.random_seed": Setting(None, integer(0)),
    # Faults on demand (banter_payments.sandbox.faults): a share of API calls answering
    # 5xx or timing out, a latency distribution, limited to some endpoints.
    "sandbox.fault_error_rate": Setting(0.0, number(0)),
    "sandbox.fault_statuses": Setting(["500", "502", "503"], text_list),
    "sandbox.fault_timeout_rate": Setting(0.0, number(0)),
    "sandbox.fault_timeout_seconds": Setting(30.0, number(0)),
    "sandbox.fault_timeout_applied": Setting(0.5, number(0)),
    "sandbox.fault_latency": Setting(None),
    "sandbox.fault_endpoints": Setting([], text_list),
    # Orders and reconciliation
    "orders.reconcile_after_seconds": Setting(15 * 60, integer(0)),
    "orders.expire_after_seconds": Setting(24 * 60 * 60, integer(60)),
    # Request hardening (banter_payments.http)
    "banter_payments.https": Setting(False, boolean),
    "cors.allowed_origins": Setting([], text_list),
    "cors.max_age_seconds": Setting(600, integer(0)),
    # Idempotency keys (banter_payments.idempotency): kept at least 24 hours
    "idempotency.ttl_seconds": Setting(24 * 60 * 60, integer(24 * 60 * 60)),
    "idempotency.lease_seconds": Setting(120, integer(5)),
    # Rate limits (banter_payments.ratelimit); rules are "route: limit[; limit]" by comma
    "ratelimit.enabled": Setting(True, boolean),
    "ratelimit.storage_url": Setting("memory://", env="RATELIMIT_STORAGE_URL"),
    "ratelimit.strategy": Setting("moving-window", choice("fixed-window", "moving-window", "sliding-window-counter")),  # noqa: E501
    "ratelimit.rules": Setting("payments.orders.create: 15/hour, payments.verify: 10/15minutes"),  # noqa: E501
    "ratelimit.exempt_roles": Setting(["service"], text_list),
    # Refunds (banter_payments.refunds)
    "refunds.require_full_clawback": Setting(False, boolean),
    # The worker runtime (banter_payments.worker): `banter-worker INI`, or a thread in
    # the app process when worker.in_process is true (development).
    "worker.in_process": Setting(False, boolean),
    "worker.poll_interval_seconds": Setting(1.0, number(0.01)),
    # How often the worker runs reconcile; 0 leaves reconcile to cron/banter-reconcile.
    "worker.reconcile_interval_seconds": Setting(300, integer(0)),
    # The outbox (banter_payments.outbox). Endpoints, one per line:
    #   <name> <url> <SECRET_ENV_VAR> <topic> [<topic> ...]
    "outbox.endpoints": Setting([], lines),
    "outbox.max_attempts": Setting(12, integer(1)),
    "outbox.retry_base_seconds": Setting(2.0, number(0)),
    "outbox.retry_max_seconds": Setting(3600.0, number(0)),
    "outbox.timeout_seconds": Setting(5.0, number(0.1)),
    "outbox.batch_size": Setting(50, integer(1)),
    # A claim's lease: the batch at the timeout plus this margin (a crashed worker's
    # messages wait that long before another worker takes them).
    "outbox.lease_margin_seconds": Setting(30.0, number(0)),
    "outbox.circuit_failures": Setting(5, integer(1)),
    "outbox.circuit_cooldown_seconds": Setting(30.0, number(0)),
    "outbox.retention_days": Setting(7, integer(1)),
    # Webhook deliveries (banter_payments.webhooks): retention, and unsigned ones
    # counted per day, reason and network with a bounded sample (docs/operations.md)
    "webhooks.retention_days": Setting(90, integer(3)),
    "webhooks.refused_sample_per_source": Setting(3, integer(0)),
    "webhooks.refused_sources_per_day": Setting(1000, integer(1)),
    # The webhook inbox (banter_payments.webhooks.inbox; docs/webhooks.md): events claimed
    # per transaction, batches at once per worker (PostgreSQL), how often a worker looks
    # when nothing woke it, and how a failing event is retried (base * 2**n seconds,
    # capped) before it is dead.
    "webhooks.inbox_batch_size": Setting(50, integer(1)),
    "webhooks.inbox_threads": Setting(4, integer(1)),
    "webhooks.inbox_poll_seconds": Setting(2.0, number(0.01)),
    "webhooks.inbox_max_attempts": Setting(8, integer(1)),
    "webhooks.inbox_retry_base_seconds": Setting(30.0, number(0)),
    "webhooks.inbox_retry_max_seconds": Setting(3600.0, number(0)),
    # Metrics (banter_payments.metrics; docs/metrics.md). /metrics answers a client whose
    # address is in metrics.allow or who sends metrics.bearer_token; in production, with
    # neither set, it answers nobody.
    "metrics.enabled": Setting(True, boolean),
    "metrics.allow": Setting(None, text_list),
    "metrics.bearer_token": Setting(None, env="METRICS_BEARER_TOKEN", secret=True),
    # Webhook timings are written in batches, after the delivery's commit.
    "metrics.webhook_timings_batch": Setting(50, integer(1)),
    "metrics.webhook_timings_flush_seconds": Setting(5.0, number(0)),
    # Alerts (banter_payments.alerts), evaluated by the worker runtime or ``banter-alerts INI``.
    "alerts.success_rate_below": Setting(0.9, number(0)),
    "alerts.window": Setting(15 * 60, duration),
    "alerts.min_attempts": Setting(20, integer(1)),
    "alerts.webhook_lag_seconds": Setting(300.0, number(0)),
    "alerts.min_webhooks": Setting(10, integer(1)),
    "alerts.dead_letters_above": Setting(0, integer(0)),
    # How often the worker runtime evaluates them (job alerts.evaluate); 0 leaves it to
    # cron and banter-alerts.
    "alerts.interval_seconds": Setting(60, integer(0)),
    # Where AlertRaised / AlertResolved go, through the outbox: an ops webhook endpoint
    # (signed with the Standard Webhooks secret in the variable named by
    # alerts.webhook_secret_env) and an ops address on the outbox channel alerts.email_channel.
    "alerts.webhook_url": Setting(None),
    "alerts.webhook_secret_env": Setting("ALERTS_WEBHOOK_SECRET"),
    "alerts.email": Setting(None),
    "alerts.email_channel": Setting("email"),
}


DECLARED_KEY = "banter_payments.declared_settings"


def _blank(value: Any) -> bool:
    return value is None or (isinstance(value, str) and not value.strip())


def parse_declared(raw: Mapping[str, Any], table: Mapping[str, Setting],
                   environ: Mapping[str, str]) -> dict[str, Any]:
    """The settings of ``table``, typed: each from its environment variable if set, else
    from ``raw``, else its default; a value that does not parse is a
    ``ConfigurationError`` naming the setting."""
    parsed = {}
    for name, setting in table.items():
        value = environ.get(setting.env) if setting.env else None
        if _blank(value):
            value = raw.get(name)
        if _blank(value):
            parsed[name] = setting.default
            continue
        try:
            parsed[name] = setting.parse(value)
        except (TypeError, ValueError) as exc:
            raise ConfigurationError(f"setting {name}: {exc}") from None
    return parsed


def parse_settings(raw: Mapping[str, Any], environ: Mapping[str, str] | None = None) -> dict:
    """Return ``raw`` with every core setting parsed, defaulted and validated."""
    environ = os.environ if environ is None else environ
    settings = {**raw, **parse_declared(raw, SETTINGS, environ)}
    _fill_sandbox_credentials(settings)
    _check_required(settings)
    _check_production(settings)
    settings.setdefault("tm.manager_hook", "pyramid_tm.explicit_manager")
    settings.setdefault("tm.annotate_user", "false")
    return settings


def declare_settings(config, table: Mapping[str, Setting]) -> None:
    """``config.declare_settings({"stickers.max_per_day": Setting(50, integer(1))})``.

    The one way a plugin (or a host app) adds settings: the same ``Setting`` rows as the
    core's table, read by the same rules (environment, then ini, then default; parsed;
    a ``ConfigurationError`` naming the setting). The typed values are in
    ``config.registry.settings`` as soon as this returns, so the plugin's ``includeme``
    reads them on the next line. A name the core or another plugin already declared is
    refused: two owners of one setting would each parse it their own way.

    (Pyramid's own ``config.add_settings`` merges raw values with no parsing; this
    directive is what plugins call instead.)
    """
    registry = config.registry
    declared = registry.setdefault(DECLARED_KEY, dict(SETTINGS))
    for name, setting in table.items():
        if not isinstance(name, str) or not name or any(ch.isspace() for ch in name):
            raise ConfigurationError(f"setting name {name!r} must be a non-empty string "
                                     f"without spaces")
        if not isinstance(setting, Setting):
            raise ConfigurationError(f"setting {name} must be declared with a "
                                     f"banter_payments.settings.Setting, got {setting!r}")
        if name in declared:
            raise ConfigurationError(f"setting {name} is declared twice (by the core or "
                                     f"another plugin); choose a name of your own")
    settings = registry.settings
    parsed = parse_declared(settings, table, os.environ)
    if settings.get("banter_payments.environment") == "production":
        _refuse_development_secrets(parsed, table)
    declared.update(table)
    settings.update(parsed)


@contextmanager
def from_setting(name: str) -> Iterator[None]:
    """Directives called with values read from setting ``name``: their errors name it.

    A directive refusing a catalog item says what is wrong with the item; inside
    ``with from_setting("stickers.packs"):`` it also says which setting it came from.
    """
    try:
        yield
    except ConfigurationError as exc:
        raise ConfigurationError(f"setting {name}: {exc}") from None


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
    _refuse_development_secrets(settings, SETTINGS)
    if settings["sqlalchemy.url"].startswith("sqlite") and not settings.get(
        "banter_payments.allow_sqlite_in_production"
    ):
        raise ConfigurationError(
            "setting sqlalchemy.url points at SQLite; production needs PostgreSQL "
            "or MariaDB (set $DATABASE_URL)"
        )


def _refuse_development_secrets(settings: Mapping[str, Any],
                                table: Mapping[str, Setting]) -> None:
    for name, setting in table.items():
        if not setting.secret:
            continue
        values = settings[name] if isinstance(settings[name], list) else [settings[name]]
        if any(value in KNOWN_DEVELOPMENT_SECRETS for value in values):
            where = f"set ${setting.env}" if setting.env else "set it in the ini file"
            raise ConfigurationError(
                f"setting {name} holds a development secret; production needs its own "
                f"({where})"
            )


def includeme(config) -> None:
    config.registry.settings.update(parse_settings(config.registry.settings))
    config.registry[DECLARED_KEY] = dict(SETTINGS)
    config.add_directive("declare_settings", declare_settings)
