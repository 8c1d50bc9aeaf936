"""The subscription state machine, as data.

Razorpay's statuses and the moves between them that go forward. Webhooks arrive late,
twice and out of order, and their subscription entity is a snapshot; a snapshot is
applied only when it is not older than what we hold (``paid_count`` first, then the
event's time) and its status is a move this table allows (or it is of a later paid
cycle, which is ahead of anything we hold). ``cancelled``, ``completed``
and ``expired`` are final.
"""

from __future__ import annotations

FINAL = frozenset({"cancelled", "completed", "expired"})
# Statuses in which a user has a subscription in the family (a second one is refused).
LIVE = frozenset({"authenticated", "active", "pending", "paused"})

TRANSITIONS: dict[str, frozenset[str]] = {
    "created": frozenset({"authenticated", "active", "pending", "halted", "cancelled",
                          "completed", "expired"}),
    "authenticated": frozenset({"active", "pending", "halted", "cancelled", "completed",
                                "expired"}),
    "active": frozenset({"pending", "halted", "paused", "cancelled", "completed"}),
    "pending": frozenset({"active", "halted", "cancelled", "completed"}),
    "halted": frozenset({"active", "cancelled", "completed"}),
    "paused": frozenset({"active", "pending", "halted", "cancelled", "completed"}),
    "cancelled": frozenset(),
    "completed": frozenset(),
    "expired": frozenset(),
}
STATUSES = frozenset(TRANSITIONS)


def allowed(current: str, new: str) -> bool:
    """Whether ``current`` may become ``new`` (staying put is always allowed)."""
    return new == current or new in TRANSITIONS.get(current, frozenset())
