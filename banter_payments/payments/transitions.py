"""Where orders and payments may go next: the two state machines, as data.

Every status change in the project is a conditional UPDATE whose ``WHERE status IN
(...)`` clause comes from these tables (``sources(kind, to)``), so the tables are the only
place a transition is allowed or refused. Both machines move forward only; a report that
would move a row backwards (a late ``payment.failed`` after the capture) simply matches no
row and changes nothing.

An edge that skips a state is listed explicitly: gateway reports can arrive late, early or
never (a ``payment.captured`` may be the first thing we hear of a payment), so "created
-> captured" must be as legal as walking through "authorized".
"""

from __future__ import annotations

from types import MappingProxyType

ORDER_TRANSITIONS: MappingProxyType[str, frozenset[str]] = MappingProxyType({
    "created": frozenset({"attempted", "verified", "paid", "expired"}),
    "attempted": frozenset({"verified", "paid", "expired"}),
    # The client's signature checked out; the capture is not confirmed yet.
    "verified": frozenset({"paid", "expired"}),
    # Money captured after we gave up on the order still pays for it.
    "expired": frozenset({"paid"}),
    # Nothing leaves paid: refunds are tracked on the order's refund fields.
    "paid": frozenset(),
})

PAYMENT_TRANSITIONS: MappingProxyType[str, frozenset[str]] = MappingProxyType({
    "created": frozenset({"authorized", "captured", "failed"}),
    # authorized -> refunded: with manual capture, Razorpay refunds an authorization
    # nobody captured within a few days (the payment stays ``captured: false``).
    "authorized": frozenset({"captured", "failed", "refunded"}),
    "captured": frozenset({"refunded"}),
    # Late authorization: the bank confirms a payment Razorpay had reported failed.
    "failed": frozenset({"authorized", "captured"}),
    "refunded": frozenset(),
})

TABLES: MappingProxyType[str, MappingProxyType[str, frozenset[str]]] = MappingProxyType({
    "order": ORDER_TRANSITIONS,
    "payment": PAYMENT_TRANSITIONS,
})

PAYMENT_STATUSES = frozenset(PAYMENT_TRANSITIONS)


def _table(kind: str) -> MappingProxyType[str, frozenset[str]]:
    try:
        return TABLES[kind]
    except KeyError:
        raise ValueError(f"unknown state machine {kind!r}; use 'order' or 'payment'") from None


def can_move(kind: str, from_status: str, to_status: str) -> bool:
    """True when ``kind`` ("order" or "payment") may go from one status to the other."""
    return to_status in _table(kind).get(from_status, frozenset())


def sources(kind: str, to_status: str) -> tuple[str, ...]:
    """Every status from which ``to_status`` may be reached, sorted (for ``IN (...)``).

    Staying put is not a move: "paid" is not among the sources of "paid", which is what
    makes "the one UPDATE that moved the order to paid" a well-defined winner.
    """
    table = _table(kind)
    if to_status not in table:
        raise ValueError(f"unknown {kind} status {to_status!r}")
    return tuple(sorted(src for src, targets in table.items() if to_status in targets))
