"""What a webhook did, for its log line: the facts it announced and whether it wrote.

Razorpay sends the same payment several times (``payment.captured`` and ``order.paid``,
retries, replays), and the state machine makes all but one of them change nothing. A log
that says "processed" for all of them hides which one paid the order. So the handlers'
work is measured where it happens, whatever handler (a plugin's too) did it:

- the events emitted while they ran (``OrderPaid``, ``RefundProcessed``...), named with
  their object's id: "paid order ord_..."; and
- the rows they wrote, from the database's own counter for this connection (SQLite's
  ``total_changes()``, PostgreSQL's ``pg_stat_xact_user_tables`` of this transaction),
  so that a webhook that wrote without announcing anything is not "changed nothing".
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import sqlalchemy as sa
from sqlalchemy.orm import Session

_COUNTERS = {
    "sqlite": "SELECT total_changes()",
    "postgresql": "SELECT coalesce(sum(n_tup_ins + n_tup_upd + n_tup_del), 0) "
                  "FROM pg_stat_xact_user_tables",
}


def rows_written(session: Session) -> int | None:
    """The connection's running count of rows written (None: no counter here)."""
    statement = _COUNTERS.get(session.get_bind().dialect.name)
    if statement is None:
        return None
    return int(session.execute(sa.text(statement)).scalar_one())


def _name(event: Any) -> str:
    kind = type(event).__name__
    for attribute, noun in (("order", "order"), ("refund", "refund"), ("gift", "gift")):
        target = getattr(event, attribute, None)
        if target is not None:
            ident = getattr(target, "id", "?")
            verbs = {"OrderPaid": f"paid {noun} {ident}",
                     "PaymentFailed": f"payment failed on {noun} {ident}",
                     "RefundProcessed": f"{noun} {ident} processed",
                     "RefundFailed": f"{noun} {ident} failed",
                     "GiftSent": f"{noun} {ident} sent"}
            return verbs.get(kind, f"{kind} {noun} {ident}")
    return kind


def describe(events: Sequence[Any], before: int | None, after: int | None) -> str:
    """One phrase: what the handlers announced and wrote, or "changed nothing"."""
    written = None if before is None or after is None else after - before
    named = [_name(event) for event in events]
    if named:
        return ", ".join(named) + (f" ({written} rows written)" if written else "")
    if written:
        return f"{written} rows written, nothing announced"
    if written is None:
        return "nothing announced"
    return "changed nothing"
