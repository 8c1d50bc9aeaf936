"""What a webhook did, for its log line: the facts it announced and whether it wrote.

Razorpay sends the same payment several times (``payment.captured`` and ``order.paid``,
retries, replays), and the state machine makes all but one of them change nothing. A log
that says "processed" for all of them hides which one paid the order. So the handlers'
work is measured where it happens, whatever handler (a plugin's too) did it:

- the events emitted while they ran (``OrderPaid``, ``RefundProcessed``...), named with
  their object's id: "paid order ord_..."; and
- the rows they wrote, from the database's own counter for this connection
  (``banter_payments.db.rows_written``), so that a webhook that wrote without
  announcing anything is not "changed nothing".
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any


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
