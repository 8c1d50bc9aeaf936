"""Faults on demand: the sandbox failing the way Razorpay's API sometimes does.

A share of API calls answers 500, 502 or 503 in Razorpay's ``SERVER_ERROR`` /
``GATEWAY_ERROR`` envelopes (nothing was done), a share times out (the call hangs for
``timeout_seconds``; some of those were carried out before the line went quiet, which
is the case an app finds hardest), and every call can be slowed by a latency
distribution. Rules apply to every endpoint or to the named ones (the emulator's route
names, e.g. ``payments.refund``), so a test can break exactly the call it is about.

The plan starts from the ``sandbox.fault_*`` settings and can be replaced at run time
through ``POST /faults`` (``/_sandbox/razorpay/faults`` when mounted in the app). It
lives in the emulator's process: with several app processes each mounting a sandbox,
set faults through the settings so that every process has the same plan.
"""

from __future__ import annotations

import math
import threading
from collections.abc import Callable, Iterable, Mapping
from dataclasses import asdict, dataclass, field, replace
from typing import Any

from .errors import GATEWAY_ERROR, SERVER_ERROR, RazorpayError

FAULT_STATUSES = (500, 502, 503)
DISTRIBUTIONS = ("fixed", "uniform", "exponential")
MAX_SECONDS = 300.0
# The description each injected status carries, as Razorpay words them.
DESCRIPTIONS = {
    500: (SERVER_ERROR, "The server encountered an error. The incident has been reported "
                        "to admins."),
    502: (GATEWAY_ERROR, "Payment processing failed due to error at bank or wallet gateway"),
    503: (SERVER_ERROR, "The service is temporarily unavailable. Please try again later."),
    504: (GATEWAY_ERROR, "Request timed out"),
}


class FaultPlanError(ValueError):
    """A plan that cannot be applied; the message names the field."""


@dataclass(frozen=True)
class Latency:
    """Added to every call: ``fixed`` waits ``ms``; ``uniform`` between ``min_ms`` and
    ``max_ms``; ``exponential`` has mean ``ms`` (a long tail, as real networks do)."""

    distribution: str = "fixed"
    ms: float = 0.0
    min_ms: float = 0.0
    max_ms: float = 0.0

    def sample(self, random: Callable[[], float]) -> float:
        """Seconds to wait."""
        if self.distribution == "uniform":
            millis = self.min_ms + (self.max_ms - self.min_ms) * random()
        elif self.distribution == "exponential":
            millis = -self.ms * math.log(1.0 - random()) if self.ms else 0.0
        else:
            millis = self.ms
        return min(millis / 1000.0, MAX_SECONDS)


@dataclass(frozen=True)
class FaultRule:
    error_rate: float = 0.0
    statuses: tuple[int, ...] = FAULT_STATUSES
    timeout_rate: float = 0.0
    timeout_seconds: float = 30.0
    # Of the calls that time out, the share Razorpay carried out anyway.
    timeout_applied: float = 0.5
    latency: Latency | None = None

    def as_dict(self) -> dict[str, Any]:
        data = asdict(self)
        data["statuses"] = list(self.statuses)
        return data


@dataclass(frozen=True)
class Fault:
    """What one call suffers: a wait first, then an error, a timeout, or nothing."""

    delay: float = 0.0
    status: int | None = None
    # "before": nothing done, the answer is late; "after": done, the answer is late.
    timeout: str | None = None
    timeout_seconds: float = 0.0

    def error(self) -> RazorpayError:
        code, description = DESCRIPTIONS[self.status or 504]
        return RazorpayError(description, status=self.status or 504, code=code, source="NA",
                             step="NA", reason="NA")


@dataclass(frozen=True)
class FaultPlan:
    default: FaultRule = field(default_factory=FaultRule)
    # Endpoint name -> rule; with ``only`` set, endpoints not named get no faults.
    endpoints: Mapping[str, FaultRule] = field(default_factory=dict)
    only: bool = False

    def rule_for(self, endpoint: str) -> FaultRule | None:
        if endpoint in self.endpoints:
            return self.endpoints[endpoint]
        return None if self.only else self.default

    def decide(self, endpoint: str, random: Callable[[], float]) -> Fault:
        rule = self.rule_for(endpoint)
        if rule is None:
            return Fault()
        delay = rule.latency.sample(random) if rule.latency else 0.0
        roll = random()
        if roll < rule.error_rate:
            statuses = rule.statuses or FAULT_STATUSES
            status = statuses[min(int(random() * len(statuses)), len(statuses) - 1)]
            return Fault(delay=delay, status=status)
        if roll < rule.error_rate + rule.timeout_rate:
            when = "after" if random() < rule.timeout_applied else "before"
            return Fault(delay=delay, timeout=when, timeout_seconds=rule.timeout_seconds)
        return Fault(delay=delay)

    def as_dict(self) -> dict[str, Any]:
        return {
            **self.default.as_dict(),
            "endpoints": {name: rule.as_dict() for name, rule in self.endpoints.items()},
            "only_endpoints": self.only,
        }


def _rate(name: str, value: Any) -> float:
    if isinstance(value, bool) or not isinstance(value, int | float | str):
        raise FaultPlanError(f"{name} must be a number between 0 and 1")
    try:
        number = float(value)
    except ValueError:
        raise FaultPlanError(f"{name} must be a number between 0 and 1") from None
    if not 0 <= number <= 1:
        raise FaultPlanError(f"{name} must be a number between 0 and 1")
    return number


def _seconds(name: str, value: Any) -> float:
    if isinstance(value, bool) or not isinstance(value, int | float | str):
        raise FaultPlanError(f"{name} must be a number of seconds")
    try:
        number = float(value)
    except ValueError:
        raise FaultPlanError(f"{name} must be a number of seconds") from None
    if not 0 <= number <= MAX_SECONDS:
        raise FaultPlanError(f"{name} must be between 0 and {MAX_SECONDS:g}")
    return number


def parse_latency(value: Any) -> Latency | None:
    """``{"distribution": "uniform", "min_ms": 50, "max_ms": 200}`` or the settings'
    short form ``"uniform 50 200"`` / ``"fixed 100"`` / ``"exponential 80"``."""
    if value is None or value == "" or value == {}:
        return None
    if isinstance(value, str):
        parts = value.replace(",", " ").split()
        kind, numbers = parts[0].lower(), parts[1:]
        expected = 2 if kind == "uniform" else 1
        if kind not in DISTRIBUTIONS or len(numbers) != expected:
            raise FaultPlanError(
                "latency must be 'fixed MS', 'uniform MIN_MS MAX_MS' or 'exponential MEAN_MS'"
            )
        value = ({"distribution": kind, "min_ms": numbers[0], "max_ms": numbers[1]}
                 if kind == "uniform" else {"distribution": kind, "ms": numbers[0]})
    if not isinstance(value, dict):
        raise FaultPlanError("latency must be an object")
    unknown = set(value) - {"distribution", "ms", "min_ms", "max_ms"}
    if unknown:
        raise FaultPlanError(f"latency.{sorted(unknown)[0]} is not a latency field")
    distribution = value.get("distribution", "fixed")
    if distribution not in DISTRIBUTIONS:
        raise FaultPlanError(f"latency.distribution must be one of {', '.join(DISTRIBUTIONS)}")
    numbers = {
        name: _seconds(f"latency.{name}", value.get(name, 0)) for name in ("ms", "min_ms", "max_ms")
    }
    if numbers["min_ms"] > numbers["max_ms"]:
        raise FaultPlanError("latency.min_ms must not exceed latency.max_ms")
    return Latency(distribution, numbers["ms"], numbers["min_ms"], numbers["max_ms"])


RULE_FIELDS = frozenset(
    {"error_rate", "statuses", "timeout_rate", "timeout_seconds", "timeout_applied", "latency"}
)


def parse_rule(data: Mapping[str, Any], base: FaultRule, where: str = "") -> FaultRule:
    """``base`` with the fields ``data`` gives."""
    unknown = set(data) - RULE_FIELDS
    if unknown:
        raise FaultPlanError(f"{where}{sorted(unknown)[0]} is not a fault setting")
    changes: dict[str, Any] = {}
    for name in ("error_rate", "timeout_rate", "timeout_applied"):
        if name in data:
            changes[name] = _rate(where + name, data[name])
    if "timeout_seconds" in data:
        changes["timeout_seconds"] = _seconds(where + "timeout_seconds", data["timeout_seconds"])
    if "statuses" in data:
        changes["statuses"] = parse_statuses(data["statuses"], where)
    if "latency" in data:
        changes["latency"] = parse_latency(data["latency"])
    rule = replace(base, **changes)
    if rule.error_rate + rule.timeout_rate > 1:
        raise FaultPlanError(f"{where}error_rate + timeout_rate must not exceed 1")
    return rule


def parse_statuses(value: Any, where: str = "") -> tuple[int, ...]:
    items = value.replace(",", " ").split() if isinstance(value, str) else value
    if not isinstance(items, list | tuple) or not items:
        raise FaultPlanError(f"{where}statuses must be a non-empty list of 500, 502, 503")
    statuses = []
    for item in items:
        try:
            status = int(item)
        except (TypeError, ValueError):
            status = 0
        if isinstance(item, bool) or status not in FAULT_STATUSES:
            raise FaultPlanError(f"{where}statuses must be a non-empty list of 500, 502, 503")
        statuses.append(status)
    return tuple(statuses)


def parse_plan(data: Any, endpoint_names: Iterable[str]) -> FaultPlan:
    """The body of ``POST /faults``: a rule for every endpoint, plus ``endpoints``
    mapping endpoint names to rules that override it, plus ``only_endpoints`` (true:
    the endpoints not named are left alone)."""
    if not isinstance(data, dict):
        raise FaultPlanError("the body must be a JSON object")
    known = set(endpoint_names)
    rule_data = {k: v for k, v in data.items() if k not in ("endpoints", "only_endpoints")}
    default = parse_rule(rule_data, FaultRule())
    endpoints_data = data.get("endpoints") or {}
    if not isinstance(endpoints_data, dict):
        raise FaultPlanError("endpoints must map endpoint names to fault settings")
    endpoints = {}
    for name, rule in endpoints_data.items():
        if name not in known:
            raise FaultPlanError(
                f"endpoints.{name} is not an endpoint; known: {', '.join(sorted(known))}")
        if not isinstance(rule, dict):
            raise FaultPlanError(f"endpoints.{name} must be an object")
        endpoints[name] = parse_rule(rule, default, where=f"endpoints.{name}.")
    only = data.get("only_endpoints", False)
    if not isinstance(only, bool):
        raise FaultPlanError("only_endpoints must be true or false")
    return FaultPlan(default, endpoints, only)


def plan_from_settings(values: Mapping[str, Any], endpoint_names: Iterable[str]) -> FaultPlan:
    """The plan the ``sandbox.fault_*`` settings describe (already parsed by the core)."""
    rule = parse_rule(
        {
            "error_rate": values["sandbox.fault_error_rate"],
            "statuses": values["sandbox.fault_statuses"],
            "timeout_rate": values["sandbox.fault_timeout_rate"],
            "timeout_seconds": values["sandbox.fault_timeout_seconds"],
            "timeout_applied": values["sandbox.fault_timeout_applied"],
            "latency": values["sandbox.fault_latency"],
        },
        FaultRule(),
        where="sandbox.fault_",
    )
    names = list(values["sandbox.fault_endpoints"] or [])
    if not names:
        return FaultPlan(rule)
    known = set(endpoint_names)
    for name in names:
        if name not in known:
            raise FaultPlanError(f"sandbox.fault_endpoints: {name} is not an endpoint")
    return FaultPlan(FaultRule(), {name: rule for name in names}, only=True)


class Faults:
    """The emulator's current plan, replaced atomically from any thread."""

    def __init__(self, configured: FaultPlan, random: Callable[[], float]) -> None:
        self.configured = configured
        self._plan = configured
        self._random = random
        self._lock = threading.Lock()

    @property
    def plan(self) -> FaultPlan:
        with self._lock:
            return self._plan

    def set(self, plan: FaultPlan) -> None:
        with self._lock:
            self._plan = plan

    def reset(self) -> None:
        self.set(self.configured)

    def decide(self, endpoint: str) -> Fault:
        return self.plan.decide(endpoint, self._random)
