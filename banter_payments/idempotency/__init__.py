"""Idempotency keys on every POST, as API.md (and Stripe) define them.

DESIGN.md offers two designs; this is (a), a claim committed outside pyramid_tm:

- the key is claimed in its own short transaction that commits before the request's
  transaction begins, so a concurrent duplicate (in this process or another one on the
  same database) sees the claim at once and answers 409 ``idempotency_key_in_use``, as
  API.md requires. Design (b), inserting the key inside the request's transaction,
  makes the duplicate wait on the unique index for the whole request instead, holds a
  database connection while it waits, and on SQLite serializes every keyed request;
- a claim has a lease (``idempotency.lease_seconds``): a crashed process cannot wedge
  a key for longer than that;
- a successful answer is stored in the request's own transaction (the ``record_tween``
  under pyramid_tm), so the work and its stored answer commit atomically: a key either
  replays the answer or the work never happened. If the lease was lost meanwhile, the
  attempt rolls back and answers 409;
- a 4xx answer of an operation that ran is stored after the (aborted) transaction in a
  short one of its own; a 5xx, a 400 ``validation_failed`` and answers that mean the
  operation never ran (401, 403, 413, 415, 429) release the key;
- the scope is the caller: ``user:<id>``, or ``anonymous:<client address>`` for an
  unauthenticated POST (``/_sandbox/token``). Webhook routes are exempt;
- the fingerprint is the method, the path with its query, and the sha256 of the body;
- keys are kept ``idempotency.ttl_seconds`` (at least 24 hours) and removed by
  ``banter-cleanup-idempotency``.
"""

from __future__ import annotations

from pyramid.tweens import EXCVIEW

from .tweens import CLAIM_TWEEN, RECORD_TWEEN

TM_TWEEN = "pyramid_tm.tm_tween_factory"


def includeme(config) -> None:
    config.add_tween(CLAIM_TWEEN, over=TM_TWEEN)
    config.add_tween(RECORD_TWEEN, under=TM_TWEEN, over=EXCVIEW)
