"""The two facts an alert announces: it started firing, and it stopped."""

from __future__ import annotations

from dataclasses import dataclass

from ..events import PaymentsEvent


@dataclass(frozen=True)
class AlertRaised(PaymentsEvent):
    name: str
    value: str
    threshold: str
    message: str


@dataclass(frozen=True)
class AlertResolved(PaymentsEvent):
    name: str
    value: str
    threshold: str
    message: str
